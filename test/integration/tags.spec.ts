import assert from 'node:assert/strict'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startCluster } from '../fixtures/cluster.js'
import type { RunningDaemon } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/wait-for.js'

interface Tag { name: string, digest: string, modified_at: string, nodes: string[], other_digests?: Array<{ digest: string, nodes: string[] }> }

describe('/api/tags over a cluster', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  const nodes: RunningDaemon[] = []
  before(async () => { registry = await startRegistry() })
  after(async () => {
    for (const d of nodes) await d.kill()
    await registry?.dispose()
  })

  it('lists each name once, at its newest digest, newest first, naming the other digests and their nodes', async () => {
    const started = await startCluster(2, () => ({ args: ['--insecure-registry', registry.host] }))
    nodes.push(...started.nodes)
    const [a, b] = started.nodes as [RunningDaemon, RunningDaemon]
    const pull = async (d: RunningDaemon, model: string): Promise<void> => {
      const r = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      assert.equal(r.status, 200, await r.text())
    }
    const name = `${registry.host}/library/twice:latest`
    const first = await pushModel(registry.url, 'library/twice', 'latest', makeTinyModel({ seed: 'v1' }))
    await pull(a, name)
    await pushModel(registry.url, 'library/other', 'latest', makeTinyModel({ seed: 'other' }))
    await pull(b, `${registry.host}/library/other:latest`)
    // A newer push under the same name, pulled by node2 a little later.
    await new Promise(resolve => setTimeout(resolve, 1100))
    const second = await pushModel(registry.url, 'library/twice', 'latest', makeTinyModel({ seed: 'v2' }))
    await pull(b, name)
    const hex = (digest: string): string => digest.replace('sha256:', '')
    let tags: Tag[] = []
    await waitFor(async () => {
      tags = ((await (await fetch(`${a.url}/api/tags`)).json()) as { models: Tag[] }).models
      return tags.find(t => t.name === name)?.other_digests !== undefined
    }, 15_000, 'node1 sees both digests')
    assert.deepEqual(tags.map(t => t.name), [name, `${registry.host}/library/other:latest`], 'one entry per name, newest first')
    const twice = tags[0] as Tag
    assert.equal(twice.digest, hex(second.digest))
    assert.deepEqual(twice.nodes, ['node2'])
    assert.deepEqual(twice.other_digests, [{ digest: hex(first.digest), nodes: ['node1'] }])
  })
})
