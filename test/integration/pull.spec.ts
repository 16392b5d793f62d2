import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ollama } from 'ollama'
import { startRegistry, pushModel, makeTinyModel, sha256, type RunningRegistry } from '../fixtures/registry.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { ndjson, post, readManifest, tree } from './helpers.js'

describe('pull from a real registry through the Ollama API', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let daemon: RunningDaemon
  let ollama: Ollama
  const tiny = makeTinyModel({ seed: 'pull' })
  let manifest: Buffer

  before(async () => {
    registry = await startRegistry()
    manifest = (await pushModel(registry.url, 'library/tiny', 'latest', tiny)).manifest
    await pushModel(registry.url, 'library/tiny', 'v2', makeTinyModel({ seed: 'other' }))
    daemon = await startDaemon({ args: ['--insecure-registry', registry.host] })
    ollama = new Ollama({ host: daemon.url })
  })
  after(async () => {
    await daemon?.kill()
    await registry?.dispose()
  })

  it('streams Ollama\'s progress lines and writes the model in Ollama\'s layout', async () => {
    const name = `${registry.host}/library/tiny:latest`
    const { status, lines } = await ndjson(`${daemon.url}/api/pull`, { model: name })
    assert.equal(status, 200)
    const statuses = lines.map(l => l.status)
    assert.equal(statuses[0], 'pulling manifest')
    const digests = [...tiny.layers.map(l => sha256(l.data)), sha256(tiny.config)]
    for (const d of digests) {
      const layerLines = lines.filter(l => l.digest === d)
      assert.ok(layerLines.length > 0, `progress for ${d}`)
      assert.equal(layerLines[0].status, `pulling ${d.slice(7, 19)}`)
      const last = layerLines[layerLines.length - 1]
      assert.equal(last.completed, last.total)
    }
    // Layers are reported in manifest order and the config last, as Ollama does.
    const firstSeen = [...new Set(lines.filter(l => l.digest !== undefined).map(l => l.digest))]
    assert.deepEqual(firstSeen, digests)
    assert.deepEqual(statuses.slice(-3), ['verifying sha256 digest', 'writing manifest', 'success'])
    const [host, port] = registry.host.split(':')
    assert.deepEqual(await readManifest(daemon.modelsDir, `${host as string}:${port as string}`, 'library', 'tiny', 'latest'), manifest)
    const blobs = (await readdir(join(daemon.modelsDir, 'blobs'))).sort()
    assert.deepEqual(blobs, digests.map(d => d.replace(':', '-')).sort())
    for (const l of tiny.layers) assert.deepEqual(await readFile(join(daemon.modelsDir, 'blobs', sha256(l.data).replace(':', '-'))), l.data)
    assert.deepEqual(await readdir(join(daemon.modelsDir, '.ollamad', 'partial')), [])
  })

  it('answers one JSON object with stream:false (the npm client\'s default)', async () => {
    const r = await ollama.pull({ model: `${registry.host}/library/tiny:v2` })
    assert.deepEqual(r, { status: 'success' })
  })

  it('lists pulled models with size, manifest digest and details from the config blob', async () => {
    const list = await ollama.list()
    const entry = list.models.find(m => m.name === `${registry.host}/library/tiny:latest`)
    assert.ok(entry, JSON.stringify(list.models.map(m => m.name)))
    assert.equal(entry.model, entry.name)
    assert.equal(entry.digest, sha256(manifest).slice(7))
    assert.equal(entry.size, tiny.config.byteLength + tiny.layers.reduce((a, l) => a + l.data.byteLength, 0))
    assert.equal(entry.details.format, 'gguf')
    assert.equal(entry.details.family, 'llama')
    assert.deepEqual(entry.details.families, ['llama'])
    assert.equal(entry.details.quantization_level, 'Q4_K_M')
    assert.ok(!Number.isNaN(Date.parse(entry.modified_at as unknown as string)))
  })

  it('shows template, parameters, details and GGUF model info', async () => {
    const show = await ollama.show({ model: `${registry.host}/library/tiny` })
    assert.match(show.template, /\{\{ \.Prompt \}\}/)
    assert.match(show.parameters, /^stop\s+"<\|eot\|>"$/m)
    assert.equal(show.details.family, 'llama')
    assert.equal((show.model_info as unknown as Record<string, unknown>)['general.architecture'], 'llama')
    assert.match(show.modelfile, /^FROM .*blobs\/sha256-[0-9a-f]{64}$/m)
    assert.ok(show.capabilities.includes('completion'))
  })

  it('matches names without case, as Ollama does', async () => {
    const r = await post(`${daemon.url}/api/show`, { model: `${registry.host}/library/TINY:LATEST` })
    assert.equal(r.status, 200)
  })

  it('reports an unknown model in-band once streaming started, and as 500 without streaming', async () => {
    const before = await tree(daemon.modelsDir)
    const streamed = await ndjson(`${daemon.url}/api/pull`, { model: `${registry.host}/library/nothing:here` })
    assert.equal(streamed.status, 200)
    assert.deepEqual(streamed.lines, [{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }])
    await assert.rejects(ollama.pull({ model: `${registry.host}/library/nothing:here` }), (e: Error & { status_code?: number }) => {
      assert.equal(e.message, 'pull model manifest: file does not exist')
      assert.equal(e.status_code, 500)
      return true
    })
    assert.deepEqual(await tree(daemon.modelsDir), before)
  })

  it('pulls two models that share layers, downloading the shared ones only once', async () => {
    const r = await ndjson(`${daemon.url}/api/pull`, { model: `${registry.host}/library/tiny:v2` })
    // Already complete: every layer is reported done at once.
    for (const l of r.lines.filter(x => x.digest !== undefined)) assert.equal(l.completed, l.total)
  })
})
