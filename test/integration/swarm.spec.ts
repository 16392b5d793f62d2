import assert from 'node:assert/strict'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { startCluster, clusterNodes, writeSwarmKey, FAST_LIVENESS } from '../fixtures/cluster.js'
import { waitFor } from '../fixtures/wait-for.js'

describe('the swarm: peers, gossip and liveness', function () {
  this.timeout(60_000)
  const running: RunningDaemon[] = []
  afterEach(async () => { for (const d of running.splice(0)) await d.kill('SIGKILL') })

  it('joins three nodes from one bootstrap address into one view of the cluster', async () => {
    const { nodes } = await startCluster(3)
    running.push(...nodes)
    for (const d of nodes) {
      await waitFor(async () => (await clusterNodes(d)).filter(n => n.liveness === 'alive').length === 3, 15_000, `3 alive nodes seen by ${d.url}`)
    }
    const names = (await clusterNodes(nodes[2] as RunningDaemon)).map(n => n.name).sort()
    assert.deepEqual(names, ['node1', 'node2', 'node3'])
    // Node 2 and 3 only knew node 1's address: the keeper connects them too, and gossip reaches every peer.
    interface StateJson { peers: { connections: number, gossip: number }, intents: { count: number, digest: string } }
    const state = async (d: RunningDaemon): Promise<StateJson> => await (await fetch(`${d.url}/api/cluster/state`)).json() as StateJson
    for (const d of nodes) {
      await waitFor(async () => { const s = await state(d); return s.peers.connections >= 2 && s.peers.gossip === 2 }, 15_000, `${d.url} connected to and gossiping with both others`)
    }
    const intents = await Promise.all(nodes.map(state))
    assert.ok(intents.every(s => s.intents.count === 0 && s.intents.digest === intents[0]?.intents.digest && /^[0-9a-f]{64}$/.test(s.intents.digest)))
  })

  it('refuses a node without the cluster key, and a node started without a key is a cluster of one', async () => {
    const { nodes } = await startCluster(1)
    running.push(...nodes)
    const first = nodes[0] as RunningDaemon
    const wrong = await startDaemon({ args: ['--swarm-key', await writeSwarmKey(), '--bootstrap', first.p2pAddr, ...FAST_LIVENESS] })
    const keyless = await startDaemon({ args: ['--bootstrap', first.p2pAddr, ...FAST_LIVENESS] })
    running.push(wrong, keyless)
    // Give the dials time to fail: several heartbeats and redial rounds.
    await new Promise(resolve => setTimeout(resolve, 2000))
    for (const d of [first, wrong, keyless]) assert.equal((await clusterNodes(d)).length, 1, d.log())
    assert.match(keyless.log(), /own swarm key: a cluster of one/)
  })

  it('marks a killed node suspect, then gone, and sees it alive again when it restarts', async () => {
    const { nodes } = await startCluster(2, (i) => i === 1 ? { args: ['--listen', '/ip4/127.0.0.1/tcp/0'] } : {})
    running.push(...nodes)
    const [a, b] = nodes as [RunningDaemon, RunningDaemon]
    const state = async (): Promise<string | undefined> => (await clusterNodes(a)).find(n => n.id === b.peerId)?.liveness
    await waitFor(async () => await state() === 'alive', 10_000, 'b alive')
    await b.kill('SIGKILL')
    await waitFor(async () => await state() === 'suspect', 10_000, 'b suspect')
    await waitFor(async () => await state() === 'gone', 10_000, 'b gone')
    // Same data dir: same peer id; it finds the cluster again from its bootstrap address.
    const again = await startDaemon({ modelsDir: b.modelsDir, dataDir: b.dataDir, args: ['--swarm-key', (/--swarm-key (\S+)/.exec(b.proc.spawnargs.join(' ')) as RegExpExecArray)[1] as string, '--bootstrap', a.p2pAddr, ...FAST_LIVENESS] })
    running.push(again)
    assert.equal(again.peerId, b.peerId)
    await waitFor(async () => await state() === 'alive', 10_000, 'b alive again')
  })
})
