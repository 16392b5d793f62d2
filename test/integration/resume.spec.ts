import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, pushModel, makeTinyModel, sha256, type RunningRegistry } from '../fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { ndjson, post } from './helpers.js'
import { waitFor } from '../fixtures/wait-for.js'

const MiB = 1024 * 1024

/** Starts a streamed pull and resolves once a progress line passes `fraction` of the big layer. */
async function pullUntil (daemon: RunningDaemon, model: string, bigDigest: string, fraction: number): Promise<void> {
  const res = await fetch(`${daemon.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model }) })
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error('pull ended before reaching the fraction')
    buf += Buffer.from(value).toString()
    for (const line of buf.split('\n').slice(0, -1)) {
      const l = JSON.parse(line)
      // The client stays connected: a client that hangs up cancels its pull, as in Ollama.
      if (l.digest === bigDigest && l.completed >= l.total * fraction) { void (async () => { try { while (!(await reader.read()).done); } catch {} })(); return }
    }
    buf = buf.slice(buf.lastIndexOf('\n') + 1)
  }
}

describe('pull: sharing, interruption and resume', function () {
  this.timeout(90_000)
  let registry: RunningRegistry
  let proxy: CountingProxy
  const big = makeTinyModel({ seed: 'big', modelBytes: 40 * MiB })
  const sibling = makeTinyModel({ seed: 'sibling' })
  const bigDigest = sha256(big.layers[0]?.data as Buffer)
  const bigSize = big.config.byteLength + big.layers.reduce((a, l) => a + l.data.byteLength, 0)
  const daemons: RunningDaemon[] = []
  const start = async (opts: Parameters<typeof startDaemon>[0] = {}): Promise<RunningDaemon> => {
    const d = await startDaemon({ ...opts, args: ['--insecure-registry', proxy.host, ...(opts.args ?? [])] })
    daemons.push(d)
    return d
  }

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/big', 'latest', big)
    await pushModel(registry.url, 'library/sibling', 'latest', sibling)
    proxy = await startCountingProxy(registry.url)
  })
  afterEach(async () => { for (const d of daemons.splice(0)) await d.kill('SIGKILL') })
  after(async () => {
    await proxy?.close()
    await registry?.dispose()
  })

  it('serves two concurrent pulls of one model from one download, both with progress', async () => {
    const d = await start({ args: ['--max-download-rate', '20M'] })
    const before = proxy.blobBytes()
    const model = `${proxy.host}/library/big:latest`
    const [a, b] = await Promise.all([ndjson(`${d.url}/api/pull`, { model }), ndjson(`${d.url}/api/pull`, { model })])
    for (const r of [a, b]) {
      assert.equal(r.lines[r.lines.length - 1].status, 'success')
      assert.ok(r.lines.some(l => l.digest === bigDigest && l.completed < l.total), 'saw partial progress')
    }
    const fetched = proxy.blobBytes() - before
    assert.ok(fetched >= bigSize && fetched < bigSize + MiB, `fetched ${fetched} for a model of ${bigSize}`)
  })

  it('downloads a layer shared by two models only once', async () => {
    const d = await start()
    await ndjson(`${d.url}/api/pull`, { model: `${proxy.host}/library/big:latest` })
    const before = proxy.blobBytes()
    const r = await ndjson(`${d.url}/api/pull`, { model: `${proxy.host}/library/sibling:latest` })
    assert.equal(r.lines[r.lines.length - 1].status, 'success')
    // The template and params layers are the same bytes in both models.
    const unique = [sibling.config, sibling.layers[0]?.data as Buffer].reduce((a, b) => a + b.byteLength, 0)
    assert.equal(proxy.blobBytes() - before, unique)
  })

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`resumes a pull cut by ${signal} at the next start, fetching only what was missing`, async () => {
      const first = await start({ args: ['--max-download-rate', '10M'] })
      const model = `${proxy.host}/library/big:latest`
      // Progress lines count bytes received; a kill keeps what the partial's record held at its
      // last save (chunks done, the others' progress as of then), up to a chunk per request in
      // flight behind them. Cut at 60% so that resuming must keep at least half of that.
      await pullUntil(first, model, bigDigest, 0.6)
      const code = await first.kill(signal)
      if (signal === 'SIGTERM') assert.equal(code, 0, first.log())
      // Nothing Ollama could see: no manifest, no blob in blobs/.
      assert.deepEqual(await readdir(join(first.modelsDir, 'blobs')), [])
      assert.deepEqual((await post(`${first.url}/api/tags`, undefined, 'GET').catch(() => ({ status: 0 }))).status, 0)
      const before = proxy.blobBytes()
      const second = await start({ modelsDir: first.modelsDir, dataDir: first.dataDir })
      await second.waitForLog(/resuming interrupted pull/)
      await waitFor(async () => (await (await fetch(`${second.url}/api/tags`)).json() as { models: unknown[] }).models.length === 1, 30_000, 'the resumed model')
      const refetched = proxy.blobBytes() - before
      assert.ok(refetched < bigSize * 0.7, `refetched ${refetched} of ${bigSize}`)
      const blob = await readFile(join(second.modelsDir, 'blobs', bigDigest.replace(':', '-')))
      assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, bigDigest)
    })
  }

  it('fails a pull cleanly while the registry is down and keeps serving', async () => {
    const d = await start()
    const dir = registry.dir
    const port = registry.port
    await registry.stop()
    try {
      const r = await ndjson(`${d.url}/api/pull`, { model: `${registry.host}/library/big:latest`, insecure: true })
      assert.equal(r.lines[0].status, 'pulling manifest')
      assert.match(r.lines[r.lines.length - 1].error, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/)
      assert.equal((await fetch(`${d.url}/api/tags`)).status, 200)
    } finally {
      registry = await startRegistry({ dir, port })
    }
  })
})
