import assert from 'node:assert/strict'
import { createRegistryClient } from '../../../src/registry/index.js'
import { parseDigest, parseModelName, parseManifest, type ModelName } from '../../../src/store/index.js'
import { noSwarm, type SwarmAccess } from '../../../src/transfer/holdings/swarm-access.js'
import { createPuller, type Puller } from '../../../src/transfer/puller.js'
import type { PullProgress } from '../../../src/transfer/progress.js'
import { systemClock } from '../../../src/util/clock.js'
import { createRateLimiter } from '../../../src/util/rate-limit.js'
import { silentLogger } from '../../../src/util/logger.js'
import { isOllamadError } from '../../../src/errors.js'
import { buildModel, withStore, type StoreEnv } from '../../fixtures/store.js'
import { makeTinyModel } from '../../fixtures/tiny-model.js'
import { startModelServer, type ModelServer } from '../../fixtures/model-server.js'
import { sha256 } from '../../fixtures/blob.js'
import { waitFor } from '../../fixtures/wait-for.js'

const model = buildModel(makeTinyModel({ seed: 'puller', modelBytes: 256 * 1024 }))

describe('transfer/puller', function () {
  this.timeout(10_000)
  let env: StoreEnv
  let registry: ModelServer
  let name: ModelName
  const pullers: Puller[] = []
  const puller = (swarm?: SwarmAccess): Puller => {
    const p = createPuller({ store: env.store(), registry: createRegistryClient({}, { insecureRegistries: [registry.host] }), clock: systemClock, limiter: createRateLimiter(systemClock, undefined), log: silentLogger, swarm })
    pullers.push(p)
    return p
  }

  beforeEach(async () => {
    env = await withStore()
    registry = await startModelServer(model)
    name = parseModelName(`${registry.host}/library/tiny:latest`)
  })
  afterEach(async () => {
    for (const p of pullers.splice(0)) await p.close()
    await registry.close()
    await env.cleanup()
  })

  it('pulls a model with Ollama\'s progress lines, publishes it, and keeps no pull record after', async () => {
    const p = puller()
    const seen: PullProgress[] = []
    const activity: boolean[] = []
    p.onActivity((progress) => { activity.push(progress) })
    const entry = await p.pull(name, { onProgress: (e) => { seen.push(e) } })
    assert.equal(entry.digest, sha256(model.manifest))
    assert.equal(env.store().list().length, 1)
    const statuses = [...new Set(seen.map(e => e.status))]
    assert.equal(statuses[0], 'pulling manifest')
    assert.deepEqual(statuses.slice(-3), ['verifying sha256 digest', 'writing manifest', 'success'])
    assert.ok(activity.includes(false), 'the record is told that downloads came and went')
    assert.ok(activity.includes(true), 'and, as progress only, that chunks landed')
    assert.deepEqual(p.partials(), [], 'nothing held once published')
    assert.deepEqual(await env.store().db.list('pull/'), [])
  })

  it('two pulls of one model share one download', async () => {
    const p = puller()
    await Promise.all([p.pull(name), p.pull(name)])
    assert.deepEqual(model.blobs.map(b => registry.blobGets(b.digest)), model.blobs.map(() => 1), 'every blob fetched once')
  })

  it('takes the cluster\'s manifest when the registry does not give one', async () => {
    registry.noManifest = true
    const asked: string[] = []
    const swarm: SwarmAccess = {
      ...noSwarm,
      manifestFor: async (n) => { asked.push(n.model); return { bytes: model.manifest, manifest: parseManifest(model.manifest), digest: parseDigest(sha256(model.manifest)) } }
    }
    const entry = await puller(swarm).pull(name)
    assert.deepEqual(asked, ['tiny'])
    assert.equal(entry.digest, sha256(model.manifest))
    registry.noManifest = true
    await assert.rejects(puller().pull(name), (e: unknown) => isOllamadError(e), 'without a swarm the registry\'s answer stands')
  })

  it('a pull cut by shutdown is resumed at the next start; one that failed is not', async () => {
    let release = (): void => {}
    registry.hold = new Promise(resolve => { release = resolve })
    const p = puller()
    const cut = p.pull(name).catch((e: unknown) => e)
    await waitFor(async () => (await env.store().db.list('pull/')).length === 1, 5000, 'the pull to be recorded')
    await p.close()
    assert.ok(isOllamadError(await cut, 'ABORTED'))
    release()
    registry.hold = undefined
    await env.reopen()
    const again = puller()
    assert.equal(await again.resumeInterrupted(), 1)
    await waitFor(() => env.store().list().length === 1, 5000, 'the resumed pull to publish the model')
    assert.deepEqual(await env.store().db.list('pull/'), [], 'done, so no longer recorded')
    registry.noManifest = true
    await assert.rejects(again.pull(parseModelName(`${registry.host}/library/other:latest`)))
    assert.deepEqual(await env.store().db.list('pull/'), [], 'a failed pull is not resumed later')
  })
})
