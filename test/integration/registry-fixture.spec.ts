import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRegistryClient } from '../../src/registry/index.js'
import { createStore, parseModelName, type Store } from '../../src/store/index.js'
import { downloadBlob } from '../../src/transfer/blob-download.js'
import { createRateLimiter } from '../../src/util/rate-limit.js'
import { systemClock } from '../../src/util/clock.js'
import { isOllamadError } from '../../src/errors.js'
import { makeTinyModel, pushModel, sha256, startRegistry, type RunningRegistry } from '../fixtures/registry.js'

describe('docker-registry fixture', function () {
  this.timeout(60_000)
  let registry: RunningRegistry | undefined
  let store: Store | undefined
  let root: string | undefined

  afterEach(async () => {
    await store?.close()
    await registry?.dispose()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    store = undefined
    registry = undefined
    root = undefined
  })

  it('serves a pushed tiny model to the registry client and the blob downloader', async () => {
    registry = await startRegistry()
    const model = makeTinyModel({ modelBytes: 6 * 1024 * 1024 })
    assert.equal(model.layers[0]?.data.subarray(0, 4).toString(), 'GGUF')
    const pushed = await pushModel(registry.url, 'library/tiny', 'latest', model)

    const client = createRegistryClient({}, { insecureRegistries: [registry.host] })
    const name = parseModelName(`${registry.host}/library/tiny:latest`)
    const got = await client.getManifest(name)
    assert.deepEqual(got.bytes, pushed.manifest)
    assert.equal(got.digest, pushed.digest)
    assert.equal(got.manifest.config.digest, sha256(model.config))
    assert.deepEqual(got.manifest.layers.map(l => l.mediaType), model.layers.map(l => l.mediaType))

    root = await mkdtemp(join(tmpdir(), 'ollamad-fixture-'))
    store = await createStore({}, { modelsDir: join(root, 'models'), dataDir: join(root, 'data'), watch: false })
    const layer = got.manifest.layers[0]
    assert.ok(layer !== undefined)
    // 6 MiB is two chunks, so this also proves the real registry answers Range requests.
    const partial = await downloadBlob({ store, registry: client, clock: systemClock, limiter: createRateLimiter(systemClock, undefined) }, {
      name, layer, concurrency: 4, stallTimeoutMs: 10_000, retries: 2, backoffBaseMs: 10, backoffMaxMs: 100, onProgress: () => {}
    })
    try {
      assert.equal(sha256(await readFile(partial.path)), layer.digest)
    } finally {
      await partial.close()
    }
  })

  it('keeps its content across a restart on the same directory and port', async () => {
    registry = await startRegistry()
    const first = registry
    const model = makeTinyModel({ seed: 'restart' })
    await pushModel(first.url, 'library/tiny', 'v1', model)
    await first.stop()
    registry = await startRegistry({ dir: first.dir, port: first.port })
    assert.equal(registry.url, first.url)
    const client = createRegistryClient({}, { insecureRegistries: [registry.host] })
    const got = await client.getManifest(parseModelName(`${registry.host}/library/tiny:v1`))
    assert.equal(got.manifest.layers[0]?.digest, sha256(model.layers[0]?.data ?? Buffer.alloc(0)))
    await assert.rejects(client.getManifest(parseModelName(`${registry.host}/library/tiny:v2`)), (e: unknown) => isOllamadError(e, 'MODEL_NOT_FOUND'))
  })
})
