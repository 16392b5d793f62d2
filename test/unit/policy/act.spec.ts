import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { OllamadError } from '../../../src/errors.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createClusterState, createHlc, createIntentStore, signRecord, type ClusterState, type IntentStore, type NodeRecord } from '../../../src/cluster/index.js'
import { createActor, type Actor } from '../../../src/policy/index.js'
import { parseDigest, parseModelName, displayName, nameKey, type ModelEntry, type Store } from '../../../src/store/index.js'
import type { Puller } from '../../../src/transfer/index.js'
import { silentLogger } from '../../../src/util/logger.js'
import { createFakeClock, type FakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'

const GiB = 1024 ** 3
const NAME = 'registry.ollama.ai/library/llama3:latest'
const KEY = nameKey(parseModelName(NAME))
const DIGEST = parseDigest(`sha256:${'a'.repeat(64)}`)
const hexBytes = (d: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(d.slice(7), 'hex'))

/** A peer's record: holds the model or not, and claims to keep it or not. */
function record (peerId: string, seq: number, o: { holds?: boolean, keeps?: boolean, name?: string }): NodeRecord {
  return blankRecord({
    peerId, sequence: BigInt(seq), name: o.name ?? peerId.slice(-4), diskTotal: BigInt(100 * GiB), diskFree: BigInt(50 * GiB),
    models: o.holds === true ? [{ name: NAME, manifestDigest: hexBytes(DIGEST), size: BigInt(GiB), pulledAt: 1n, vramEstimate: 0n }] : [],
    keep: o.keeps === true ? [{ name: NAME, manifestDigest: hexBytes(DIGEST) }] : []
  })
}

describe('policy/act: the keep-claim rule with a fake clock', () => {
  let clock: FakeClock
  let keys: PrivateKey[]
  let ids: string[]
  let state: ClusterState
  let intents: IntentStore
  let removed: string[]
  let pulled: string[]
  let held: boolean
  let actor: Actor
  let seq: number

  const entry = (): ModelEntry => ({ name: parseModelName(NAME), digest: DIGEST, manifest: { schemaVersion: 2, mediaType: '', config: { mediaType: '', digest: DIGEST, size: 1 }, layers: [] }, size: GiB, modifiedAt: new Date(0) })
  const store = { list: () => held ? [entry()] : [], remove: async (n: { model: string }) => { removed.push(displayName(n as never)); held = false } } as unknown as Store
  let pullFails = false
  const puller = {
    pull: async (n: unknown) => {
      pulled.push(displayName(n as never))
      if (pullFails) throw new OllamadError('NO_ROOM', 'not enough disk space')
      return entry()
    }
  } as unknown as Puller

  /** Peer `i` sends a fresh record (its sequence rises: a sign of life). */
  const hear = async (i: number, o: { holds?: boolean, keeps?: boolean }): Promise<void> => {
    const r = record(ids[i] as string, ++seq, o)
    state.merge(await signRecord(keys[i] as PrivateKey, r), r)
  }
  const self = async (): Promise<void> => {
    const r = record(ids[0] as string, ++seq, { holds: held, keeps: held && actor?.keep().length > 0 })
    state.merge(await signRecord(keys[0] as PrivateKey, r), r)
  }

  beforeEach(async () => {
    clock = createFakeClock(Date.now())
    keys = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    state = createClusterState(clock, { selfId: ids[0] as string, suspectAfterMs: 10_000, goneAfterMs: 30_000 })
    intents = createIntentStore({ selfId: ids[0] as string, privateKey: keys[0] as PrivateKey, hlc: createHlc(() => clock.now()) })
    removed = []
    pulled = []
    held = true
    seq = 0
    pullFails = false
  })
  afterEach(async () => { await actor.stop() })

  /** This node's actor: 5 s grace, a step every second. */
  const start = (): Actor => {
    const a = createActor({ selfId: ids[0] as string, state, intents, store, puller, clock, log: silentLogger, publishSoon: () => {} }, { graceMs: 5_000, intervalMs: 1_000 })
    a.start()
    return a
  }

  /** One replica wanted, pinned to the other node (the rendezvous may pick either), which does not hold it yet. */
  const wantItOnTheOther = async (): Promise<void> => {
    actor = start()
    await self()
    await hear(1, { holds: false })
    await intents.write({ kind: 'replicas', model: KEY, replicas: 1 })
    await intents.write({ kind: 'pin', model: KEY, node: ids[1] as string })
    await actor.step()
  }

  it('withdraws its claim, waits the grace, and drops only once another live node claims the model', async () => {
    await wantItOnTheOther()
    assert.deepEqual(actor.keep(), [], 'the claim is withdrawn at once')
    assert.deepEqual(removed, [], 'nothing dropped yet')
    // The grace passes, but the other node does not hold it yet: keep the copy.
    clock.advance(6_000)
    await hear(1, { holds: false })
    await actor.step()
    assert.deepEqual(removed, [], 'no claim from anyone else: the last copy stays')
    // It fetched the model and claims it, in a record received after the wait.
    await hear(1, { holds: true, keeps: true })
    await actor.step()
    assert.deepEqual(removed, ['llama3:latest'])
  })

  it('a claim counts only when the claimer\'s own record shows the model held at that digest', async () => {
    await wantItOnTheOther()
    clock.advance(6_000)
    await hear(1, { holds: false, keeps: true })
    await actor.step()
    assert.deepEqual(removed, [], 'a claim without the model in the same record is no copy')
    await hear(1, { holds: true, keeps: true })
    await actor.step()
    assert.deepEqual(removed, ['llama3:latest'])
  })

  it('a cluster delete drops a copy at a deleted digest, never by file time, and is settled once no record shows one', async () => {
    actor = start()
    await self()
    await intents.write({ kind: 'delete', model: KEY, digests: ['0'.repeat(64)] })
    await actor.step()
    assert.deepEqual(removed, [], 'a copy at another digest stays, though its file time (1970) is older than the delete')
    assert.equal(intents.get(`delete/${KEY}`)?.body, undefined, 'no record shows the deleted digest: settled at once')
    await intents.write({ kind: 'delete', model: KEY, digests: [DIGEST.slice(7)] })
    await actor.step()
    assert.deepEqual(removed, ['llama3:latest'])
    assert.notEqual(intents.get(`delete/${KEY}`)?.body, undefined, 'not settled while this node\'s record still shows the copy')
    await self()
    await actor.step()
    assert.equal(intents.get(`delete/${KEY}`)?.body, undefined, 'settled once the record shows it gone')
    // Restored afterwards (same digest, an old file time, as `cp -p` leaves it): it stays.
    held = true
    await self()
    await actor.step()
    assert.deepEqual(removed, ['llama3:latest'])
  })

  it('a claim in a record older than the wait does not count', async () => {
    actor = start()
    await self()
    await hear(1, { holds: true, keeps: true })
    await intents.write({ kind: 'pin', model: KEY, node: ids[1] as string })
    await intents.write({ kind: 'replicas', model: KEY, replicas: 1 })
    await actor.step()
    clock.advance(6_000)
    await actor.step()
    assert.deepEqual(removed, [], 'the claim was heard before the wait ended; the claimer may have withdrawn since')
    await hear(1, { holds: true, keeps: true })
    await actor.step()
    assert.deepEqual(removed, ['llama3:latest'])
  })

  it('fetches a model the plan assigns it', async () => {
    held = false
    actor = start()
    await self()
    await hear(1, { holds: true, keeps: true })
    await intents.write({ kind: 'replicas', model: KEY, replicas: 2 })
    await actor.step()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(pulled, ['llama3:latest'])
  })

  it('tries a failed fetch again only after a minute, not at every step, and says in its record that it had no room', async () => {
    held = false
    pullFails = true
    actor = start()
    await self()
    await hear(1, { holds: true, keeps: true })
    await intents.write({ kind: 'replicas', model: KEY, replicas: 2 })
    await actor.step()
    await new Promise(resolve => setImmediate(resolve))
    clock.advance(30_000)
    await hear(1, { holds: true, keeps: true })
    await actor.step()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(pulled, ['llama3:latest'], 'not again within the minute')
    assert.deepEqual(actor.noRoom(), [KEY], 'the record says it has no room for it')
    clock.advance(31_000)
    await hear(1, { holds: true, keeps: true })
    await actor.step()
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(pulled, ['llama3:latest', 'llama3:latest'])
    clock.advance(10 * 60_000)
    assert.deepEqual(actor.noRoom(), [], 'and stops saying so after ten minutes')
  })
})
