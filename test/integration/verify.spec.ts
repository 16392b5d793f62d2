import assert from 'node:assert/strict'
import { open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'

describe('verify when a repair cannot run', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let d: RunningDaemon

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/rot', 'latest', makeTinyModel({ seed: 'rot', modelBytes: 64 * 1024 }))
    d = await startDaemon({ args: ['--insecure-registry', registry.host] })
  })
  after(async () => {
    await d?.kill()
    await registry?.dispose()
  })

  it('keeps a model whose blob is corrupt when the registry is down, and says what is wrong', async () => {
    const model = `${registry.host}/library/rot:latest`
    const pulled = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    assert.equal(pulled.status, 200, await pulled.text())
    const manifestPath = join(d.modelsDir, 'manifests', registry.host, 'library', 'rot', 'latest')
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { layers: Array<{ digest: string, mediaType: string }> }
    const digest = manifest.layers.find(l => l.mediaType.endsWith('.model'))?.digest as string
    const blob = join(d.modelsDir, 'blobs', digest.replace(':', '-'))
    const fh = await open(blob, 'r+')
    await fh.write(Buffer.from('bitrot'), 0, 6, 100)
    await fh.close()
    const rotten = await readFile(blob)
    await registry.stop()

    const r = await fetch(`${d.url}/api/cluster/verify`, { method: 'POST', body: JSON.stringify({}) })
    const lines = (await r.text()).trim().split('\n').map(l => JSON.parse(l) as { status?: string, error?: string })
    assert.ok(lines.some(l => l.status === `corrupt ${digest}`), JSON.stringify(lines))
    assert.match(lines.at(-1)?.error ?? '', /^could not repair .*library\/rot.*; it is kept as it was$/)
    // Nothing lost: the manifest, the model in the catalog, and the blob's bytes are as before.
    assert.ok((await stat(manifestPath)).isFile())
    assert.deepEqual(await readFile(blob), rotten)
    const tags = await (await fetch(`${d.url}/api/tags`)).json() as { models: Array<{ name: string }> }
    assert.ok(tags.models.some(m => m.name === model), JSON.stringify(tags))
  })
})
