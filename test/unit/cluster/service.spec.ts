import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  ClusterMessage, GOSSIP_TOPIC, createClusterService, createClusterState, createHlc, createIntentStore, createRecordSections, signRecord, verifyRecord,
  type ClusterService, type ClusterState, type NodeRecord, type RecordSections
} from '../../../src/cluster/index.js'
import type { P2pNode } from '../../../src/p2p/index.js'
import { silentLogger } from '../../../src/util/logger.js'
import { createFakeClock, type FakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'
import { settle } from '../../fixtures/wait-for.js'

type Validator = (from: PeerId, msg: Message) => Promise<TopicValidatorResult>

/** Just enough of a libp2p node for the service: gossip it can publish to and a validator it installs. */
function fakeNode (peerId: PeerId): { node: P2pNode, published: Uint8Array[], validator: () => Validator | undefined } {
  const published: Uint8Array[] = []
  const validators = new Map<string, Validator>()
  const pubsub = {
    topicValidators: validators,
    subscribe: () => {},
    unsubscribe: () => {},
    publish: async (_topic: string, data: Uint8Array) => { published.push(data); return { recipients: [] } }
  }
  const node = {
    peerId,
    services: { pubsub },
    handle: async () => {},
    unhandle: async () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dialProtocol: async () => { throw new Error('no peers in this test') }
  } as unknown as P2pNode
  return { node, published, validator: () => validators.get(GOSSIP_TOPIC) }
}

const records = async (published: Uint8Array[]): Promise<NodeRecord[]> =>
  await Promise.all(published.map(async m => await verifyRecord(ClusterMessage.decode(m).records[0] as NonNullable<ClusterMessage['records'][0]>)))

describe('cluster/service', () => {
  let clock: FakeClock
  let key: PrivateKey
  let state: ClusterState
  let sections: RecordSections
  let service: ClusterService
  let fake: ReturnType<typeof fakeNode>
  let name: string

  beforeEach(async () => {
    clock = createFakeClock()
    key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key)
    fake = fakeNode(peerId)
    state = createClusterState(clock, { selfId: peerId.toString() })
    const intents = createIntentStore({ selfId: peerId.toString(), privateKey: key, hlc: createHlc(() => clock.now()) })
    sections = createRecordSections()
    name = 'node-a'
    sections.add('node', () => ({ name, version: '9.9.9' }))
    service = createClusterService({ node: fake.node, privateKey: key, state, clock, log: silentLogger, intents, sections }, { heartbeatMs: 3_000, antiEntropyMs: 3_600_000 })
  })
  afterEach(async () => { await service.stop() })
  /** Moves the fake clock on and lets what it set off run. */
  const after = async (ms: number): Promise<void> => { clock.advance(ms); await settle() }
  /** Live members besides this node, each with a record of its own. */
  const addPeers = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const k = await generateKeyPair('Ed25519')
      const record = blankRecord({ peerId: peerIdFromPrivateKey(k).toString(), name: `peer-${i}` })
      state.merge(await signRecord(k, record), record)
    }
  }

  it('does nothing until started, then publishes a record of its sections signed by this node', async () => {
    assert.equal(fake.published.length, 0)
    assert.equal(fake.validator(), undefined)
    await service.start()
    const [r] = await records(fake.published)
    assert.equal(r?.peerId, fake.node.peerId.toString())
    assert.equal(r?.name, 'node-a')
    assert.equal(r?.version, '9.9.9')
    assert.equal(r?.incarnation, BigInt(1_000_000), 'the incarnation is the start time on the clock')
    assert.equal(state.member(fake.node.peerId.toString())?.record.name, 'node-a', 'its own record is in its state')
  })

  it('sends changes of its sections together, at most one record per 500 ms, after a 100 ms debounce, and a heartbeat when no record went out for an interval', async () => {
    await service.start()
    name = 'renamed'
    sections.changed()
    sections.changed()
    clock.advance(499)
    await settle()
    assert.equal(fake.published.length, 1, 'not within 500 ms of the record sent at start')
    clock.advance(1)
    await settle()
    assert.deepEqual((await records(fake.published)).map(r => [r.name, r.sequence]), [['node-a', 1n], ['renamed', 2n]])
    // After a quiet spell a change waits only for the debounce.
    clock.advance(1_000)
    name = 'again'
    sections.changed()
    clock.advance(99)
    await settle()
    assert.equal(fake.published.length, 2, 'not before the debounce')
    clock.advance(1)
    await settle()
    assert.deepEqual((await records(fake.published)).at(-1)?.name, 'again')
    // The heartbeat comes a whole interval after the last record, not on a beat of its own.
    clock.advance(2_999)
    await settle()
    assert.equal(fake.published.length, 3, 'no heartbeat within 3 s of the last record')
    clock.advance(1)
    await settle()
    assert.equal((await records(fake.published)).at(-1)?.sequence, 4n, 'the heartbeat')
    clock.advance(3_000)
    await settle()
    assert.equal((await records(fake.published)).at(-1)?.sequence, 5n, 'and the next, with nothing else going out')
    await service.stop()
    clock.advance(10_000)
    await settle()
    assert.equal(fake.published.length, 5, 'nothing after stop')
  })

  it('spaces records of changes further apart in a larger cluster, and a heartbeat holds no change back', async () => {
    await addPeers(19)
    await service.start()
    const change = (to: string): void => { name = to; sections.changed() }
    change('one')
    clock.advance(999)
    await settle()
    assert.equal(fake.published.length, 1, '20 live members: 1000 ms between records of changes, not 500')
    clock.advance(1)
    await settle()
    assert.equal((await records(fake.published)).at(-1)?.name, 'one')
    // A quiet spell, then a heartbeat: a change right after it waits only for the debounce.
    clock.advance(3_000)
    await settle()
    assert.equal(fake.published.length, 3, 'the heartbeat')
    change('two')
    clock.advance(100)
    await settle()
    assert.deepEqual((await records(fake.published)).map(r => r.name).slice(2), ['one', 'two'])
  })

  it('holds a record whose only news is progress longer in a larger cluster, from the last record of any kind; a change sends it sooner', async () => {
    await addPeers(19)
    await service.start()
    const names = async (): Promise<string[]> => (await records(fake.published)).map(r => r.name)
    name = 'p1'
    sections.progressed()
    await after(2_999)
    assert.equal(fake.published.length, 1, '20 live members: progress waits 4 s, past the 1 s of a change')
    await after(1)
    assert.deepEqual(await names(), ['node-a', 'p1'], 'the heartbeat at 3 s carried it')
    // The heartbeat showed all progress until then: progress after it waits 4 s from it, so the
    // next heartbeat carries it (not a record of its own 4 s after the last change, at 4 s).
    await after(500)
    name = 'p2'
    sections.progressed()
    await after(2_499)
    assert.equal(fake.published.length, 2, 'nothing between the heartbeats')
    await after(1)
    assert.deepEqual((await names()).slice(2), ['p2'], 'the heartbeat at 6 s carried it')
    // Progress, then a change: the change's shorter interval decides.
    name = 'p3'
    sections.progressed()
    clock.advance(100)
    sections.changed()
    await after(99)
    assert.equal(fake.published.length, 3, 'the change waits out its debounce')
    await after(1)
    assert.deepEqual((await names()).slice(3), ['p3'])
    await after(2_999)
    assert.equal(fake.published.length, 4, 'one record for both, then the heartbeat only 3 s later')
    await after(1)
    assert.equal(fake.published.length, 5)
  })

  it('in a small cluster sends progress its interval after the last record, a heartbeat included', async () => {
    await addPeers(2)
    await service.start()
    await after(3_000)
    assert.equal(fake.published.length, 2, 'the heartbeat')
    name = 'p1'
    sections.progressed()
    await after(599)
    assert.equal(fake.published.length, 2, '3 live members: 600 ms after the heartbeat, not the 100 ms debounce')
    await after(1)
    assert.deepEqual((await records(fake.published)).map(r => r.name), ['node-a', 'node-a', 'p1'])
  })

  it('merges a gossiped record signed by its owner, and rejects one that is not', async () => {
    await service.start()
    const validate = fake.validator() as Validator
    const otherKey = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(otherKey)
    const record = blankRecord({ peerId: other.toString(), name: 'node-b' })
    const data = ClusterMessage.encode({ records: [await signRecord(otherKey, record)], intents: [] })
    assert.equal(await validate(other, { data } as unknown as Message), TopicValidatorResult.Accept)
    assert.equal(state.member(other.toString())?.record.name, 'node-b')
    assert.equal(await validate(other, { data } as unknown as Message), TopicValidatorResult.Ignore, 'the same record again is nothing new')
    const forged = ClusterMessage.encode({ records: [await signRecord(key, blankRecord({ peerId: other.toString(), name: 'forged', sequence: 9n }))], intents: [] })
    assert.equal(await validate(other, { data: forged } as unknown as Message), TopicValidatorResult.Reject)
    assert.equal(await validate(other, { data: new Uint8Array([1, 2, 3]) } as unknown as Message), TopicValidatorResult.Reject)
    assert.equal(state.member(other.toString())?.record.name, 'node-b')
    assert.equal(state.stats.dropped, 2)
  })
})
