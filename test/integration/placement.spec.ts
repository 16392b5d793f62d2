import assert from 'node:assert/strict'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { startDaemon, tempDir, type RunningDaemon } from '../fixtures/daemon.js'
import { startCluster, FAST_LIVENESS } from '../fixtures/cluster.js'
import { ndjson } from './helpers.js'
import { waitFor } from '../fixtures/wait-for.js'

const MiB = 1024 * 1024
/** Quick liveness and a short grace: a killed node's copies stop counting after 4 s. */
const POLICY = ['--grace', '4000']

interface ModelsView { models: Array<{ name: string, nodes: Array<{ name: string, coverage: string }> }> }

async function holders (d: RunningDaemon, model: string): Promise<string[]> {
  const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as ModelsView
  return (r.models.find(m => m.name === model)?.nodes.filter(n => n.coverage === 'complete').map(n => n.name) ?? []).sort()
}

async function post (d: RunningDaemon, path: string, body: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${d.url}${path}`, { method: 'POST', headers: d.auth, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() as Record<string, unknown> }
}

async function localModels (d: RunningDaemon): Promise<string[]> {
  const r = await (await fetch(`${d.url}/api/tags`)).json() as { models: Array<{ name: string, nodes?: string[] }> }
  // /api/tags lists the cluster; this node's own copies name it among their holders.
  const self = (await (await fetch(`${d.url}/api/cluster/state`)).json() as { self: string }).self
  const me = ((await (await fetch(`${d.url}/api/cluster/nodes`)).json()) as { nodes: Array<{ id: string, name: string }> }).nodes.find(n => n.id === self)?.name
  return r.models.filter(m => m.nodes?.includes(me as string) === true).map(m => m.name)
}

describe('placement: cluster pulls, replicas, migration, deletion', function () {
  this.timeout(120_000)
  let registry: RunningRegistry
  let proxy: CountingProxy
  let name: string
  const running: RunningDaemon[] = []
  const model = makeTinyModel({ seed: 'placement', modelBytes: 6 * MiB })

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/placed', 'latest', model)
    proxy = await startCountingProxy(registry.url)
    name = `${proxy.host}/library/placed:latest`
  })
  afterEach(async () => { for (const d of running.splice(0)) await d.kill('SIGKILL') })
  after(async () => {
    await proxy?.close()
    await registry?.dispose()
  })

  const cluster = async (n: number): Promise<RunningDaemon[]> => {
    const { nodes } = await startCluster(n, () => ({ args: ['--insecure-registry', proxy.host, ...POLICY] }))
    running.push(...nodes)
    for (const d of nodes) {
      await waitFor(async () => ((await (await fetch(`${d.url}/api/cluster/state`)).json()) as { nodes: { alive: number } }).nodes.alive === n, 15_000, 'all alive')
    }
    return nodes
  }

  it('pulls to every node as a job that any node reports, and answers the running job for a repeat', async () => {
    const nodes = await cluster(4)
    const [a, b] = nodes as [RunningDaemon, RunningDaemon]
    const upstream0 = proxy.blobBytes()
    const job = await post(a, '/api/cluster/pull', { model: name, nodes: 'all' })
    assert.equal(job.status, 202, JSON.stringify(job.json))
    const id = job.json.id as string
    const again = await post(b, '/api/cluster/pull', { model: name, nodes: 'all' })
    // The repeat may land after the job finished on a fast machine; then it is a new job.
    if (again.json.existing === true) assert.equal(again.json.id, id)
    await waitFor(async () => ((await (await fetch(`${b.url}/api/cluster/jobs/${id}`)).json()) as { state: string }).state === 'completed', 60_000, 'the job completes')
      .catch(async (e: Error) => { throw new Error(`${e.message}: ${await (await fetch(`${b.url}/api/cluster/jobs/${id}`)).text()}\n${nodes.map(d => d.log().slice(-1500)).join('\n---\n')}`) })
    const view = await (await fetch(`${b.url}/api/cluster/jobs/${id}`)).json() as { nodes: Array<{ name: string, state: string, total: number, completed: number }> }
    assert.deepEqual(view.nodes.map(n => n.state), ['completed', 'completed', 'completed', 'completed'])
    assert.ok(view.nodes.every(n => n.total > 0 && n.completed === n.total))
    await waitFor(async () => (await holders(b, name)).length === 4, 10_000, '4 holders')
    // The WAN is crossed once: every chunk came upstream to one node and over the LAN to the rest.
    const size = model.config.byteLength + model.layers.reduce((s, l) => s + (l.data as Buffer).byteLength, 0)
    const upstream = proxy.blobBytes() - upstream0
    assert.ok(upstream >= size && upstream <= size + 4 * MiB, `upstream ${upstream} bytes for a model of ${size}`)
    const jobs = await (await fetch(`${a.url}/api/cluster/jobs`)).json() as { jobs: Array<{ id: string }> }
    assert.ok(jobs.jobs.some(j => j.id === id))
    assert.equal((await fetch(`${a.url}/api/cluster/jobs/nope1234`)).status, 404)
  })

  it('keeps exactly the wanted number of replicas, and refuses bad input without changing anything', async () => {
    const nodes = await cluster(4)
    const [a] = nodes as [RunningDaemon]
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await holders(a, name)).length === 1, 10_000, 'one holder')
    for (const bad of [{ model: name, replicas: 0 }, { model: name, replicas: 'many' }, { model: 'nowhere/none:1', replicas: 2 }, { model: '../x', replicas: 2 }]) {
      const r = await post(a, '/api/cluster/replicate', bad)
      assert.ok(r.status >= 400 && typeof r.json.error === 'string', JSON.stringify(r))
    }
    assert.equal((await post(a, '/api/cluster/migrate', { model: name, from: 'node1', to: 'no-such-node' })).status, 404)
    assert.equal((await holders(a, name)).length, 1, 'bad input moved nothing')
    const ok = await post(a, '/api/cluster/replicate', { model: name, replicas: 2 })
    assert.equal(ok.status, 200, JSON.stringify(ok.json))
    await waitFor(async () => (await holders(a, name)).length === 2, 30_000, 'two holders')
    await new Promise(resolve => setTimeout(resolve, 3000))
    assert.equal((await holders(a, name)).length, 2, 'and no more')
    // Down to one: a copy goes, only after the claim wait, and one stays.
    await post(a, '/api/cluster/replicate', { model: name, replicas: 1 })
    await waitFor(async () => (await holders(a, name)).length === 1, 30_000, 'back to one holder')
  })

  it('replaces the copy of a killed holder after the grace, and drops the extra copy when it returns', async () => {
    const nodes = await cluster(3)
    const [a, b] = nodes as [RunningDaemon, RunningDaemon]
    assert.equal((await ndjson(`${b.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await holders(a, name)).length === 1, 10_000, 'one holder')
    assert.equal((await post(a, '/api/cluster/replicate', { model: name, replicas: 1 })).status, 200)
    const holder = b
    const keyArg = (/--swarm-key (\S+)/.exec(holder.proc.spawnargs.join(' ')) as RegExpExecArray)[1] as string
    await holder.kill('SIGKILL')
    // After gone (3 s) and the grace (4 s), another live node fetches it from... nobody but the registry.
    await waitFor(async () => (await holders(a, name)).filter(h => h !== 'node2').length === 1, 60_000, 'a new holder')
      .catch((e: Error) => { throw new Error(`${e.message}\n${a.log().slice(-2000)}\n${(nodes[2] as RunningDaemon).log().slice(-2000)}`) })
    const back = await startDaemon({ modelsDir: holder.modelsDir, dataDir: holder.dataDir, args: ['--swarm-key', keyArg, '--name', 'node2', '--bootstrap', a.p2pAddr, '--insecure-registry', proxy.host, ...FAST_LIVENESS, ...POLICY] })
    running.push(back)
    await waitFor(async () => (await holders(a, name)).length === 2, 20_000, 'the returning copy shows')
    await waitFor(async () => (await holders(a, name)).length === 1, 40_000, 'the extra copy goes')
  })

  it('migrates: copy to the target, then drop at the source', async () => {
    const nodes = await cluster(3)
    const [a] = nodes as [RunningDaemon]
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await holders(a, name)).length === 1, 10_000, 'one holder')
    const r = await post(a, '/api/cluster/migrate', { model: name, from: 'node1', to: 'node3' })
    assert.equal(r.status, 200, JSON.stringify(r.json))
    await waitFor(async () => JSON.stringify(await holders(a, name)) === JSON.stringify(['node3']), 40_000, 'only node3 holds it')
  })

  it('a cluster delete removes every copy, also on a node that was down when it was made', async () => {
    const nodes = await cluster(3)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    const job = await post(a, '/api/cluster/pull', { model: name, nodes: ['node1', 'node2', 'node3'] })
    await waitFor(async () => ((await (await fetch(`${a.url}/api/cluster/jobs/${job.json.id as string}`)).json()) as { state: string }).state === 'completed', 60_000, 'pulled everywhere')
    const keyArg = (/--swarm-key (\S+)/.exec(c.proc.spawnargs.join(' ')) as RegExpExecArray)[1] as string
    // A backup of node1's models, with their file times, to restore once the delete is done.
    const backup = await tempDir('backup')
    execFileSync('cp', ['-a', join(a.modelsDir, 'manifests'), join(a.modelsDir, 'blobs'), backup])
    await c.kill('SIGKILL')
    const del = await post(b, '/api/cluster/delete', { model: name })
    assert.equal(del.status, 200, JSON.stringify(del.json))
    await waitFor(async () => (await localModels(a)).length === 0 && (await localModels(b)).length === 0, 20_000, 'gone from the live nodes')
    const back = await startDaemon({ modelsDir: c.modelsDir, dataDir: c.dataDir, args: ['--swarm-key', keyArg, '--name', 'node3', '--bootstrap', a.p2pAddr, '--insecure-registry', proxy.host, ...FAST_LIVENESS, ...POLICY] })
    running.push(back)
    await waitFor(async () => (await localModels(back)).length === 0, 20_000, 'gone from the node that was down')
    await waitFor(async () => (await holders(a, name)).length === 0, 10_000, 'no holder left in the cluster view')
    await waitFor(() => [a, b, back].some(d => /the cluster delete of \S+ is settled/.test(d.log())), 20_000, 'the delete settled')
    const intentsDigest = async (d: RunningDaemon): Promise<string> => ((await (await fetch(`${d.url}/api/cluster/state`)).json()) as { intents: { digest: string } }).intents.digest
    await waitFor(async () => new Set(await Promise.all([a, b, back].map(intentsDigest))).size === 1, 20_000, 'every node holds the settled delete')
    // Restored from the backup, old file times and all, after the delete: it stays.
    execFileSync('cp', ['-a', join(backup, 'manifests'), join(backup, 'blobs'), a.modelsDir])
    await waitFor(async () => (await localModels(a)).length === 1, 20_000, 'the restored model seen')
    await new Promise(resolve => setTimeout(resolve, 5_000))
    assert.equal((await localModels(a)).length, 1, 'a restored copy is not deleted again')
  })

  it('evicts the least recently used model that another node keeps when over --max-cache', async () => {
    const other = makeTinyModel({ seed: 'evict', modelBytes: 6 * MiB })
    await pushModel(registry.url, 'library/other', 'latest', other)
    const otherName = `${proxy.host}/library/other:latest`
    const { nodes } = await startCluster(2, (i) => ({ args: ['--insecure-registry', proxy.host, ...POLICY, ...(i === 0 ? ['--max-cache', '10M'] : [])] }))
    running.push(...nodes)
    const [a, b] = nodes as [RunningDaemon, RunningDaemon]
    for (const d of [a, b]) assert.equal((await ndjson(`${d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await holders(a, name)).length === 2, 10_000, 'two holders')
    // Over the cache on node1: the older model, which node2 also keeps, goes; the new one stays.
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: otherName })).lines.at(-1)?.status, 'success')
    await waitFor(async () => JSON.stringify(await holders(b, name)) === JSON.stringify(['node2']), 30_000, 'node1 evicted the older model')
    assert.deepEqual(await holders(b, otherName), ['node1'], 'the only copy of the newer model stays')
  })

  it('rebalance after a node joins: the dry run lists the moves, and the nodes carry them out', async () => {
    const { nodes, key } = await startCluster(2, () => ({ args: ['--insecure-registry', proxy.host, ...POLICY] }))
    running.push(...nodes)
    const [a] = nodes as [RunningDaemon]
    const names: string[] = []
    for (const seed of ['r1', 'r2', 'r3']) {
      await pushModel(registry.url, `library/${seed}`, 'latest', makeTinyModel({ seed, modelBytes: MiB }))
      names.push(`${proxy.host}/library/${seed}:latest`)
      assert.equal((await ndjson(`${a.url}/api/pull`, { model: names.at(-1) })).lines.at(-1)?.status, 'success')
    }
    for (const n of names) {
      await waitFor(async () => (await holders(a, n)).length === 1, 10_000, 'held by node1')
      assert.equal((await post(a, '/api/cluster/replicate', { model: n, replicas: 1 })).status, 200)
    }
    const c = await startDaemon({ args: ['--swarm-key', key, '--name', 'node3', '--bootstrap', a.p2pAddr, '--insecure-registry', proxy.host, ...FAST_LIVENESS, ...POLICY] })
    running.push(c)
    await waitFor(async () => ((await (await fetch(`${a.url}/api/cluster/state`)).json()) as { nodes: { alive: number } }).nodes.alive === 3, 15_000, 'node3 joined')
    await new Promise(resolve => setTimeout(resolve, 1000))
    const dry = await post(a, '/api/cluster/rebalance', { dry_run: true })
    const moves = dry.json.moves as Array<{ model: string, from?: string, to?: string }>
    for (const n of names) assert.deepEqual(await holders(a, n), ['node1'], 'a dry run moves nothing')
    const r = await post(a, '/api/cluster/rebalance', {})
    assert.deepEqual(r.json.moves, moves, 'the same plan')
    for (const n of names) {
      const move = moves.find(m => n.endsWith(m.model) || m.model === n)
      const want = move?.to !== undefined ? [move.to] : ['node1']
      await waitFor(async () => JSON.stringify(await holders(a, n)) === JSON.stringify(want), 40_000, `${n} on ${want.join()}`)
    }
  })
})
