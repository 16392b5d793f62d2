import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createP2pNode, type P2pNode } from '../../src/p2p/index.js'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createClusterService, createClusterState, createHlc, createIntentStore, createRecordSections, signRecord, type ClusterService, type ClusterState, type IntentStore, type NodeFacts } from '../../src/cluster/index.js'
import { createKeeper } from '../../src/p2p/index.js'
import { systemClock } from '../../src/util/clock.js'
import { silentLogger } from '../../src/util/logger.js'
import { waitFor } from '../fixtures/wait-for.js'
import { blankFacts, blankRecord } from '../fixtures/records.js'

const M = 'registry.ollama.ai/library/llama3:latest'

interface Peer { node: P2pNode, state: ClusterState, intents: IntentStore, service: ClusterService }


async function peer (bootstrap: string[], antiEntropyMs = 60_000): Promise<Peer> {
  const privateKey = await generateKeyPair('Ed25519')
  const node = await createP2pNode({ privateKey, swarmKey: undefined, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, mdns: false })
  const selfId = node.peerId.toString()
  const state = createClusterState(systemClock, { selfId, suspectAfterMs: 1500, goneAfterMs: 3000 })
  const intents = createIntentStore({ selfId, privateKey, hlc: createHlc(() => Date.now()) })
  const own = async (): Promise<NodeFacts> => ({ ...blankFacts(), addrs: node.getMultiaddrs().map(m => m.toString()) })
  const sections = createRecordSections()
  sections.add('own', own)
  const service = createClusterService({ node, privateKey, state, clock: systemClock, log: silentLogger, sections, intents }, { heartbeatMs: 300, antiEntropyMs })
  await service.start()
  return { node, state, intents, service }
}

describe('mending what gossip lost', function () {
  this.timeout(30_000)
  const peers: Peer[] = []
  afterEach(async () => { for (const p of peers.splice(0)) { await p.service.stop(); await p.node.stop() } })

  it('intents whose message was lost reach every peer through the intents digest in the records', async () => {
    const a = await peer([])
    peers.push(a)
    const b = await peer([a.node.getMultiaddrs()[0]?.toString() as string])
    peers.push(b)
    const c = await peer([a.node.getMultiaddrs()[0]?.toString() as string])
    peers.push(c)
    const sees = (p: Peer, n: number): boolean => p.state.members().filter(m => m.liveness === 'alive').length === n
    await waitFor(async () => peers.every(p => sees(p, 3)), 10_000, 'all three see each other')
    // Written on a and never published: as if the message reached nobody.
    await a.intents.write({ kind: 'replicas', model: M, replicas: 2 })
    // And one written on c, which only c holds: each side pulls what it lacks.
    await c.intents.write({ kind: 'pin', model: M, node: a.node.peerId.toString() })
    const hex = (p: Peer): string => Buffer.from(p.intents.digest()).toString('hex')
    await waitFor(async () => peers.every(p => p.intents.entries().length === 2), 15_000, 'every peer holds both intents')
    assert.equal(new Set(peers.map(hex)).size, 1, 'one set everywhere')
    assert.deepEqual(b.intents.bodies('replicas'), [{ kind: 'replicas', model: M, replicas: 2 }])
  })

  it('a record that reached one node only reaches the others by the periodic sync', async () => {
    const a = await peer([], 500)
    peers.push(a)
    const c = await peer([a.node.getMultiaddrs()[0]?.toString() as string], 500)
    peers.push(c)
    await waitFor(async () => peers.every(p => p.state.members().length === 2), 10_000, 'a and c see each other')
    // The last record of a node that died right after a relayed it to a alone: no gossip, no
    // connect and no later record will ever carry it to c.
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const record = blankRecord({ name: 'gone-node', peerId: id, sequence: 5n })
    a.state.merge(await signRecord(key, record), record)
    await waitFor(async () => c.state.member(id)?.record.sequence === 5n, 10_000, 'c holds the dead node\'s last record')
  })

  it('the keeper dials a member as soon as it is kicked, not at its next round', async () => {
    const a = await peer([])
    peers.push(a)
    const b = await peer([])
    peers.push(b)
    let known: Array<{ peerId: string, addrs: string[] }> = []
    const keeper = createKeeper({ node: a.node, clock: systemClock, log: silentLogger }, { bootstrap: [], known: () => known, intervalMs: 3_600_000 })
    keeper.start()
    try {
      const connected = (): boolean => a.node.getConnections(b.node.peerId).length > 0
      await new Promise(resolve => setTimeout(resolve, 300))
      assert.equal(connected(), false)
      known = [{ peerId: b.node.peerId.toString(), addrs: b.node.getMultiaddrs().map(m => m.toString()) }]
      keeper.kick()
      await waitFor(async () => connected(), 5_000, 'a connects to b')
    } finally { keeper.stop() }
  })
})
