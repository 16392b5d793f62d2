import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { Ollama } from 'ollama'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startDaemon, runCli, tempDir, type RunningDaemon } from '../fixtures/daemon.js'
import { startOllamaStandin, type OllamaStandin } from '../fixtures/ollama-standin.js'

async function freePort (): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise<void>(resolve => srv.close(() => { resolve() }))
  return port
}

describe('the daemon in front of Ollama', function () {
  this.timeout(60_000)
  let standin: OllamaStandin
  const daemons: RunningDaemon[] = []
  const start = async (opts: Parameters<typeof startDaemon>[0] = {}): Promise<RunningDaemon> => {
    const d = await startDaemon(opts)
    daemons.push(d)
    return d
  }
  before(async () => { standin = await startOllamaStandin({ delayMs: 5 }) })
  afterEach(async () => { for (const d of daemons.splice(0)) await d.kill('SIGKILL') })
  after(async () => { await standin?.close() })

  it('forwards generate to the local Ollama with the stream intact', async () => {
    const d = await start({ ollama: standin.url })
    const ollama = new Ollama({ host: d.url })
    const parts: string[] = []
    for await (const chunk of await ollama.generate({ model: 'm', prompt: 'hi', stream: true })) parts.push(chunk.response ?? '')
    assert.deepEqual(parts, ['Hello', ' from', ' the', ' stand-in', ''])
    const whole = await ollama.generate({ model: 'm', prompt: 'hi' })
    assert.equal(whole.response, 'Hello from the stand-in')
    assert.deepEqual((await ollama.ps()).models.map(m => m.name), ['m:latest'], 'the stand-in loaded the model, as Ollama would')
    assert.equal(standin.requests.filter(r => r.path === '/api/generate').length, 2)
  })

  it('answers 502 with an error that says Ollama is not running', async () => {
    const d = await start()
    const res = await fetch(`${d.url}/api/chat`, { method: 'POST', body: '{"model":"m","messages":[]}' })
    assert.equal(res.status, 502)
    assert.match((await res.json() as { error: string }).error, /^Ollama is not reachable at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\); is it running\?$/)
  })

  it('never takes its upstream from OLLAMA_HOST', async () => {
    const d = await start({ ollama: null, env: { OLLAMA_HOST: standin.url } })
    assert.match(d.log(), /Ollama upstream http:\/\/127\.0\.0\.1:11434/)
  })

  it('refuses to start with itself as the upstream Ollama', async () => {
    const port = await freePort()
    await assert.rejects(start({ port, ollama: `http://localhost:${port}` }), /points? at|is this ollamad's own address/)
  })

  it('catches a forwarding loop through two daemons', async () => {
    const portA = await freePort()
    const b = await start({ ollama: `http://127.0.0.1:${portA}` })
    await start({ port: portA, ollama: b.url })
    const res = await fetch(`${b.url}/api/generate`, { method: 'POST', body: '{"model":"m"}' })
    assert.equal(res.status, 508)
    assert.match((await res.json() as { error: string }).error, /request loop/)
  })

  it('stops cleanly on SIGINT and SIGTERM', async () => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const d = await start()
      assert.equal(await d.kill(sig), 0, d.log())
      assert.match(d.log(), /stopped/)
    }
  })

  it('passes routes of Ollama it does not serve to the local Ollama, and answers unknown ones in Ollama\'s error shape', async () => {
    const d = await start({ ollama: standin.url })
    const signout = await fetch(`${d.url}/api/signout`, { method: 'POST', body: '{}' })
    assert.equal(signout.status, 404, 'the stand-in has no such route: its answer comes back')
    assert.ok(standin.requests.some(r => r.method === 'POST' && r.path === '/api/signout'), 'it reached the local Ollama')
    const cluster = await fetch(`${d.url}/api/cluster/nope`)
    assert.equal(cluster.status, 404)
    assert.deepEqual(await cluster.json(), { error: 'no route GET /api/cluster/nope' })
    const root = await fetch(`${d.url}/nope`)
    assert.equal(root.status, 404)
    assert.equal(await root.text(), '404 page not found')
    const none = await start()
    const down = await fetch(`${none.url}/api/signin`, { method: 'POST', body: '{}' })
    assert.equal(down.status, 502)
    assert.match((await down.json() as { error: string }).error, /\S/)
  })

  it('refuses a second daemon on the same state directory with one clear line', async () => {
    const d = await start()
    await assert.rejects(start({ dataDir: d.dataDir }), /in use by another ollamad/)
  })
})

describe('the CLI', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let daemon: RunningDaemon
  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/cli', 'latest', makeTinyModel({ seed: 'cli' }))
    daemon = await startDaemon({ args: ['--insecure-registry', registry.host] })
  })
  after(async () => {
    await daemon?.kill()
    await registry?.dispose()
  })

  it('pulls with progress, lists, copies, shows and removes through the daemon', async () => {
    const env = { OLLAMAD_HOST: daemon.host }
    const model = `${registry.host}/library/cli`
    const pull = await runCli(['pull', model], env)
    assert.equal(pull.code, 0, pull.stderr)
    assert.match(pull.stderr, /pulling [0-9a-f]{12}: 100% ▕█+▏ .*\n/)
    assert.match(pull.stderr, /success/)
    const list = await runCli(['list'], env)
    assert.match(list.stdout, /^NAME\s+ID\s+SIZE\s+MODIFIED$/m)
    assert.match(list.stdout, new RegExp(`^${model.replace(/\./g, '\\.')}:latest\\s+[0-9a-f]{12}\\s+\\d`, 'm'))
    assert.match(list.stdout, /(Less than a second|\d+ seconds?) ago$/m, 'MODIFIED as Ollama says it')
    assert.equal((await runCli(['list', 'no-such-prefix'], env)).stdout, 'NAME   ID   SIZE   MODIFIED\n')
    assert.match((await runCli(['list', registry.host], env)).stdout, /library\/cli:latest/)
    assert.equal((await runCli(['cp', model, 'other'], env)).code, 0)
    const show = await runCli(['show', 'other', '--template'], env)
    assert.match(show.stdout, /\{\{ \.Prompt \}\}/)
    const rm = await runCli(['rm', 'other', '--host', daemon.host])
    assert.equal(rm.code, 0)
    assert.match(rm.stdout, /deleted 'other'/)
  })

  it('fails with one readable line and a non-zero exit', async () => {
    const env = { OLLAMAD_HOST: daemon.host }
    for (const args of [['show', 'missing'], ['pull', '../x'], ['rm', 'missing'], ['pull', `${registry.host}/library/none`]]) {
      const r = await runCli(args, env)
      assert.equal(r.code, 1, args.join(' '))
      // Progress may come first; the failure itself is one line, the last.
      const lines = r.stderr.trim().split('\n')
      assert.equal(lines.filter(l => l.startsWith('Error:')).length, 1, r.stderr)
      assert.match(lines[lines.length - 1] as string, /^Error: \S/)
    }
    const down = await runCli(['list', '--host', '127.0.0.1:9'])
    assert.equal(down.code, 1)
    assert.match(down.stderr, /^Error: could not reach ollamad at http:\/\/127\.0\.0\.1:9 .*ollamad start\n$/)
  })

  it('prints the node\'s token for the dashboard, and says where it looked when there is none', async () => {
    const ok = await runCli(['token'], { OLLAMAD_DATA: daemon.dataDir })
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, `${daemon.token}\n`)
    const none = await runCli(['token', '--data', '/nonexistent-ollamad'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^Error: no token in \/nonexistent-ollamad\/api-token: .*\n$/)
  })

  it('pulls to the cluster with one line per node, lists the job, and refuses bad cluster commands with one line', async () => {
    // The CLI finds the daemon's token in its data dir by itself.
    const env = { OLLAMAD_HOST: daemon.host, OLLAMAD_DATA: daemon.dataDir }
    const model = `${registry.host}/library/cli`
    const pull = await runCli(['pull', model, '--all'], env)
    assert.equal(pull.code, 0, pull.stderr)
    assert.match(pull.stderr, /completed\s+▕█{20}▏\s+100%/)
    assert.match(pull.stdout, /^success: .*library\/cli:latest on 1 node\n$/)
    const detach = await runCli(['pull', model, '--nodes', 'node-that-is-not', '--detach'], env)
    assert.equal(detach.code, 1)
    assert.match(detach.stderr, /^Error: no node named "node-that-is-not" in the cluster\n$/)
    const jobs = await runCli(['jobs'], env)
    assert.match(jobs.stdout, /^ID\s+MODEL\s+STATE\s+NODES DONE\s+CREATED$/m)
    assert.match(jobs.stdout, /completed\s+1\/1/)
    for (const args of [['replicate', model, '--replicas', '0'], ['replicate', 'nowhere/none', '--replicas', '2'], ['migrate', model, '--from', 'a', '--to', 'b'], ['job', 'nope1234'], ['pin', model, 'nobody']]) {
      const r = await runCli(args, env)
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, /^Error: \S.*\n$/, args.join(' '))
    }
    const dry = await runCli(['rebalance', '--dry-run'], env)
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /nothing to move/)
  })

  it('refuses bad start flags with one line', async () => {
    const dir = await tempDir('flags')
    for (const args of [['--max-download-rate', 'fast'], ['--host', '127.0.0.1:99999'], ['--concurrency', '0']]) {
      const r = await runCli(['start', '--models', dir, '--data', dir, ...args])
      assert.equal(r.code, 1, args.join(' '))
      assert.match(r.stderr, /^Error: .+\n$/)
    }
  })
})
