import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, pushModel, makeTinyModel, sha256, type RunningRegistry } from '../fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { startCluster, FAST_LIVENESS } from '../fixtures/cluster.js'
import { ndjson, waitFor } from './helpers.js'

const MiB = 1024 * 1024

/** Waits until `d` sees `n` live peers holding `digestHex`'s blob complete. */
async function waitForHolders (d: RunningDaemon, model: string, n: number): Promise<void> {
  await waitFor(async () => {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    return (r.models.find(m => m.name === model)?.nodes.filter(x => x.coverage === 'complete').length ?? 0) >= n
  }, 20_000, `${n} holders of ${model}`)
}

const fileSha = async (path: string): Promise<string> => `sha256:${createHash('sha256').update(await readFile(path)).digest('hex')}`

describe('transfer over the swarm', function () {
  this.timeout(120_000)
  let registry: RunningRegistry
  let proxy: CountingProxy
  const model = makeTinyModel({ seed: 'swarm', modelBytes: 24 * MiB })
  const modelDigest = sha256(model.layers[0]?.data as Buffer)
  const running: RunningDaemon[] = []
  let name: string

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/swarm', 'latest', model)
    proxy = await startCountingProxy(registry.url)
    name = `${proxy.host}/library/swarm:latest`
  })
  afterEach(async () => { for (const d of running.splice(0)) await d.kill('SIGKILL') })
  after(async () => {
    await proxy?.close()
    await registry?.dispose()
  })

  it('pulls once from the registry, then from peers, then with the registry stopped', async () => {
    const { nodes } = await startCluster(3, () => ({ args: ['--insecure-registry', proxy.host] }))
    running.push(...nodes)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    const start = proxy.blobBytes()
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const afterFirst = proxy.blobBytes()
    assert.ok(afterFirst - start >= 24 * MiB)
    await waitForHolders(b, name, 1)
    assert.equal((await ndjson(`${b.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    assert.equal(proxy.blobBytes(), afterFirst, 'the second node took no blob bytes from the registry')
    await waitForHolders(c, name, 2)
    await proxy.close()
    try {
      const r = await ndjson(`${c.url}/api/pull`, { model: name })
      assert.equal(r.lines.at(-1)?.status, 'success', JSON.stringify(r.lines.at(-1)))
    } finally {
      proxy = await startCountingProxy(registry.url)
    }
    for (const d of nodes) assert.equal(await fileSha(join(d.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
  })
})
