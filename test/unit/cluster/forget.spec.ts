import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createClusterState, createHlc, createIntentStore, forgetGone, signRecord, verifyIntent, type ClusterState, type IntentStore, type SignedIntent } from '../../../src/cluster/index.js'
import { createFakeClock, type FakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'
import { createLogger } from '../../../src/util/logger.js'

const M = 'registry.ollama.ai/library/llama3:latest'

interface Node { id: string, key: PrivateKey, state: ClusterState, intents: IntentStore, sent: SignedIntent[] }

describe('cluster/forget', () => {
  let clock: FakeClock
  const node = async (): Promise<Node> => {
    const key = await generateKeyPair('Ed25519')
    const id = peerIdFromPrivateKey(key).toString()
    const state = createClusterState(clock, { selfId: id, suspectAfterMs: 1000, goneAfterMs: 2000, forgetAfterMs: 60_000 })
    const intents = createIntentStore({ selfId: id, privateKey: key, hlc: createHlc(() => clock.now()), isMember: (p) => state.member(p) !== undefined })
    return { id, key, state, intents, sent: [] }
  }
  const announce = async (n: Node, to: Node[], sequence = 1n): Promise<void> => {
    const record = blankRecord({ name: n.id.slice(-6), peerId: n.id, sequence })
    const signed = await signRecord(n.key, record)
    for (const t of to) t.state.merge(signed, record)
  }
  const forget = async (n: Node): Promise<{ forgotten: number, adopted: number }> =>
    await forgetGone({ state: n.state, intents: n.intents, log: createLogger('test', () => {}), publishIntents: async (s) => { n.sent.push(...s) } })

  beforeEach(() => { clock = createFakeClock(1_700_000_000_000) })

  it('drops a long-gone writer\'s record, and the first alive node writes its intents again under its own name', async () => {
    const [gone, x, y] = [await node(), await node(), await node()]
    const [first, second] = [x, y].sort((a, b) => a.id < b.id ? -1 : 1) as [Node, Node]
    for (const n of [gone, first, second]) await announce(n, [gone, first, second])
    const pin = await gone.intents.write({ kind: 'placement', model: M, nodes: [gone.id] })
    const tomb = await gone.intents.write({ tombstone: `replicas/${M}` })
    for (const n of [first, second]) for (const s of [pin, tomb]) n.intents.merge(s, await verifyIntent(s))

    clock.advance(30_000)
    for (const n of [first, second]) await announce(n, [first, second], 2n)
    assert.deepEqual(await forget(second), { forgotten: 0, adopted: 0 }, 'not gone long enough')
    clock.advance(31_000)
    for (const n of [first, second]) await announce(n, [first, second], 3n)

    assert.deepEqual(await forget(second), { forgotten: 1, adopted: 0 }, 'only the first alive node adopts')
    assert.equal(second.state.member(gone.id), undefined)
    assert.deepEqual(await forget(first), { forgotten: 1, adopted: 2 })
    assert.equal(first.sent.length, 2)
    assert.equal(first.intents.get(`placement/${M}`)?.writer, first.id)
    assert.equal(first.intents.get(`replicas/${M}`)?.writer, first.id)
    assert.equal(first.intents.get(`replicas/${M}`)?.body, undefined, 'a tombstone stays a tombstone')

    // A node that joins now never saw the gone writer: it takes the adopted intents, and the sets agree.
    const late = await node()
    for (const n of [first, second]) await announce(n, [late], 4n)
    for (const s of first.sent) {
      late.intents.merge(s, await verifyIntent(s))
      second.intents.merge(s, await verifyIntent(s))
    }
    assert.deepEqual(late.intents.bodies('placement'), [{ kind: 'placement', model: M, nodes: [gone.id] }])
    assert.equal(Buffer.compare(late.intents.digest(), first.intents.digest()), 0)
    assert.equal(Buffer.compare(second.intents.digest(), first.intents.digest()), 0)
    // Adoption runs once: the next round finds nothing left to take over.
    assert.deepEqual(await forget(first), { forgotten: 0, adopted: 0 })
  })
})
