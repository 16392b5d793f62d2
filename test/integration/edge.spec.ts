import assert from 'node:assert/strict'
import http from 'node:http'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startDaemon, runCli, tempDir, type RunningDaemon } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/wait-for.js'

/** One request with full control of the headers (fetch will not send a Host of our choosing). */
async function raw (url: string, o: { method?: string, headers?: Record<string, string>, body?: string }): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return await new Promise((resolve, reject) => {
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}) }
    const req = http.request(url, { method: o.method ?? 'GET', headers }, (res) => {
      let body = ''
      res.on('data', (b: Buffer) => { body += b.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

describe('the HTTP edge: origins, hosts and the token', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let d: RunningDaemon
  let model: string
  const names = async (): Promise<string[]> => ((await (await fetch(`${d.url}/api/tags`)).json()) as { models: Array<{ name: string }> }).models.map(m => m.name).sort()

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/edge', 'latest', makeTinyModel({ seed: 'edge' }))
    d = await startDaemon({ args: ['--insecure-registry', registry.host, '--origins', 'https://ui.example.com'], env: { OLLAMA_ORIGINS: 'https://*.corp.example' } })
    model = `${registry.host}/library/edge:latest`
    const pull = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    assert.equal(pull.status, 200, await pull.text())
    // Cluster writes find models in the node records: wait until this node's record shows it.
    await waitFor(async () => JSON.stringify(await (await fetch(`${d.url}/api/cluster/models`)).json()).includes(model), 10_000, 'the model in the node record')
  })
  after(async () => {
    await d?.kill()
    await registry?.dispose()
  })

  it('a cross-site request gets 403 and changes nothing, whatever its content type', async () => {
    const evil = { Origin: 'http://evil.example', 'Content-Type': 'text/plain' }
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/cluster/delete', { model }],
      ['DELETE', '/api/delete', { model }],
      ['POST', '/api/copy', { source: model, destination: 'stolen' }],
      ['POST', '/api/push', { model: 'stolen' }]
    ]
    for (const [method, path, body] of attempts) {
      const r = await raw(`${d.url}${path}`, { method, headers: { ...evil, ...d.auth }, body: JSON.stringify(body) })
      assert.equal(r.status, 403, `${method} ${path}`)
      assert.match((JSON.parse(r.body) as { error: string }).error, /origin "http:\/\/evil\.example" is not allowed/)
      assert.equal(r.headers['access-control-allow-origin'], undefined)
    }
    assert.deepEqual(await names(), [model])
    // A preflight from that page is refused too.
    assert.equal((await raw(`${d.url}/api/delete`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'DELETE' } })).status, 403)
  })

  it('answers allowed origins as Ollama does: local pages, extensions, OLLAMA_ORIGINS and --origins', async () => {
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1', 'chrome-extension://abcdef', 'https://ui.example.com', 'https://chat.corp.example']) {
      const pre = await raw(`${d.url}/api/chat`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, authorization' } })
      assert.equal(pre.status, 204, origin)
      assert.equal(pre.headers['access-control-allow-origin'], origin)
      assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/)
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/)
      const get = await raw(`${d.url}/api/tags`, { headers: { Origin: origin } })
      assert.equal(get.status, 200, origin)
      assert.equal(get.headers['access-control-allow-origin'], origin)
    }
    assert.equal((await raw(`${d.url}/api/tags`, { headers: { Origin: 'https://corp.example.evil.com' } })).status, 403)
  })

  it('refuses a Host that does not name this node (DNS rebinding), and serves local names', async () => {
    const port = new URL(d.url).port
    for (const host of [`evil.example:${port}`, 'attacker.com', `rebind.127.0.0.1.nip.io:${port}`]) {
      const r = await raw(`${d.url}/api/tags`, { headers: { Host: host } })
      assert.equal(r.status, 403, host)
      assert.match((JSON.parse(r.body) as { error: string }).error, /does not name this node/)
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`, 'gpu-07.local', 'ollama.internal']) {
      assert.equal((await raw(`${d.url}/api/tags`, { headers: { Host: host } })).status, 200, host)
    }
  })

  it('cluster-wide writes need the token: 401 without it or with a wrong one, done with it', async () => {
    const body = JSON.stringify({ model, replicas: 1 })
    for (const headers of [{}, { Authorization: 'Bearer not-the-token-at-all' }, { Authorization: d.token }] as Array<Record<string, string>>) {
      const r = await fetch(`${d.url}/api/cluster/replicate`, { method: 'POST', headers, body })
      assert.equal(r.status, 401)
      assert.match((await r.json() as { error: string }).error, /^unauthorized: /)
    }
    const ok = await fetch(`${d.url}/api/cluster/replicate`, { method: 'POST', headers: d.auth, body })
    assert.equal(ok.status, 200, await ok.text())
    // Reads, inference and this node's own writes stay open on loopback, as in Ollama.
    assert.equal((await fetch(`${d.url}/api/cluster/jobs`)).status, 200)
    assert.equal((await fetch(`${d.url}/api/copy`, { method: 'POST', body: JSON.stringify({ source: model, destination: 'mine' }) })).status, 200)
    assert.deepEqual(await names(), ['mine:latest', model].sort())
  })

  it('the CLI finds the token in the data dir by itself, takes OLLAMAD_TOKEN, and says what is missing', async () => {
    const elsewhere = await tempDir('no-token')
    const args = ['replicate', model, '--replicas', '1']
    const without = await runCli(args, { OLLAMAD_HOST: d.host, OLLAMAD_DATA: elsewhere })
    assert.equal(without.code, 1)
    assert.match(without.stderr, /^Error: unauthorized: .*OLLAMAD_TOKEN.*\n$/)
    assert.equal((await runCli(args, { OLLAMAD_HOST: d.host, OLLAMAD_DATA: elsewhere, OLLAMAD_TOKEN: d.token })).code, 0)
    const found = await runCli(args, { OLLAMAD_HOST: d.host, OLLAMAD_DATA: d.dataDir })
    assert.equal(found.code, 0, found.stderr)
    assert.equal((await runCli([...args, '--token', 'wrong-token-wrong-token'], { OLLAMAD_HOST: d.host, OLLAMAD_DATA: d.dataDir })).code, 1)
  })

  it('keeps the token in the data dir readable by its owner only', async () => {
    const { stat } = await import('node:fs/promises')
    const s = await stat(`${d.dataDir}/api-token`)
    assert.equal(s.mode & 0o777, 0o600)
    assert.ok(d.token.length >= 32)
  })

  it('refuses a blob upload larger than the disk before storing a byte', async () => {
    const r = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = http.request(`${d.url}/api/blobs/sha256:${'a'.repeat(64)}`, { method: 'POST', headers: { 'Content-Length': String(10 ** 15) } }, (res) => {
        let body = ''
        res.on('data', (b: Buffer) => { body += b.toString() })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
      })
      req.on('error', reject)
      req.write('x')
    })
    assert.equal(r.status, 400)
    assert.match((JSON.parse(r.body) as { error: string }).error, /^blob of 1000000000000000 bytes does not fit: \d+ bytes free/)
  })

  it('refuses to start with write routes open on an address the network reaches, in one line', async () => {
    const dir = await tempDir('public')
    const r = await runCli(['start', '--models', dir, '--data', dir, '--host', '0.0.0.0:0', '--open', 'read,infer,write', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^Error: refusing to open write routes without the token on 0\.0\.0\.0, .*--open.*\n$/)
    const bad = await runCli(['start', '--models', dir, '--data', dir, '--open', 'everything'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^Error: --open takes read, infer, pull, write, cluster or none/)
  })
})
