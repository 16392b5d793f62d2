import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createClusterState, createHlc, createIntentStore, signRecord, startIntentRepair, verifyIntent } from '../../../src/cluster/index.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'

const M = 'registry.ollama.ai/library/llama3:latest'

describe('cluster/intent-repair', () => {
  let key: PrivateKey
  let peer: string
  let sequence = 0n
  before(async () => {
    key = await generateKeyPair('Ed25519')
    peer = peerIdFromPrivateKey(key).toString()
  })

  const setup = async (): Promise<{ clock: ReturnType<typeof createFakeClock>, synced: string[], heard: (digest: Uint8Array) => Promise<void>, mine: ReturnType<typeof createIntentStore>, stop: () => void }> => {
    const clock = createFakeClock()
    const state = createClusterState(clock, { selfId: 'me', suspectAfterMs: 10_000, goneAfterMs: 30_000 })
    const myKey = await generateKeyPair('Ed25519')
    const mine = createIntentStore({ selfId: peerIdFromPrivateKey(myKey).toString(), privateKey: myKey, hlc: createHlc(() => clock.now()) })
    const synced: string[] = []
    const repair = startIntentRepair({ state, intents: mine, clock, random: () => 0, sync: async (id) => { synced.push(id); return true } }, { settleMs: 1000, resyncMs: 30_000 })
    /** A record from the peer arrives, carrying this intents digest. */
    const heard = async (digest: Uint8Array): Promise<void> => {
      const record = blankRecord({ peerId: peer, sequence: ++sequence, intentsDigest: new Uint8Array(digest) })
      state.merge(await signRecord(key, record), record)
    }
    return { clock, synced, heard, mine, stop: repair.stop }
  }

  it('syncs from a peer whose digest stays different past the settle time, and not before', async () => {
    const { clock, synced, heard, mine, stop } = await setup()
    const other = createIntentStore({ selfId: peer, privateKey: key, hlc: createHlc(() => clock.now()) })
    await other.write({ kind: 'replicas', model: M, replicas: 2 })
    await heard(other.digest())
    clock.advance(999)
    assert.deepEqual(synced, [], 'gossip may still be under way')
    clock.advance(1)
    assert.deepEqual(synced, [peer])
    // Still different at the next records: no second sync before the resync time.
    await heard(other.digest())
    clock.advance(5_000)
    assert.equal(synced.length, 1)
    // The peer learned more since: it is asked again without waiting.
    await other.write({ kind: 'replicas', model: `${M}2`, replicas: 1 })
    await heard(other.digest())
    clock.advance(1_000)
    assert.equal(synced.length, 2, 'a new difference is repaired at once')
    clock.advance(29_000)
    await heard(other.digest())
    clock.advance(1_000)
    assert.equal(synced.length, 3, 'a lasting difference is tried again')
    // Once the sets are equal, nothing happens.
    for (const e of other.entries()) mine.merge(e.signed, await verifyIntent(e.signed))
    clock.advance(60_000)
    await heard(other.digest())
    clock.advance(5_000)
    assert.equal(synced.length, 3)
    stop()
  })

  it('leaves alone a difference that closes within the settle time, and records without a digest', async () => {
    const { clock, synced, heard, mine, stop } = await setup()
    await heard(new Uint8Array(0))
    clock.advance(5_000)
    const other = createIntentStore({ selfId: peer, privateKey: key, hlc: createHlc(() => clock.now()) })
    await other.write({ kind: 'replicas', model: M, replicas: 2 })
    await heard(other.digest())
    clock.advance(500)
    // The gossip message arrives late but within the settle time.
    const e = other.entries()[0]
    assert.ok(e !== undefined)
    mine.merge(e.signed, await verifyIntent(e.signed))
    clock.advance(5_000)
    assert.deepEqual(synced, [])
    stop()
  })

  it('tries one difference once for all peers that show it, and again with another peer when a sync failed', async () => {
    const clock = createFakeClock()
    const state = createClusterState(clock, { selfId: 'me' })
    const myKey = await generateKeyPair('Ed25519')
    const mine = createIntentStore({ selfId: peerIdFromPrivateKey(myKey).toString(), privateKey: myKey, hlc: createHlc(() => clock.now()) })
    const keys = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    const ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    const theirs = createIntentStore({ selfId: ids[0] as string, privateKey: keys[0] as PrivateKey, hlc: createHlc(() => clock.now()) })
    await theirs.write({ kind: 'replicas', model: M, replicas: 2 })
    const seq = [0n, 0n, 0n]
    const heard = async (k: number): Promise<void> => {
      const record = blankRecord({ peerId: ids[k] as string, sequence: ++(seq[k] as bigint), intentsDigest: theirs.digest() })
      seq[k] = record.sequence
      state.merge(await signRecord(keys[k] as PrivateKey, record), record)
    }
    const tries: string[] = []
    // The first peer cannot be reached.
    const repair = startIntentRepair({ state, intents: mine, clock, random: () => 0, sync: async (id) => { tries.push(id); return id !== ids[0] } }, { settleMs: 1000, resyncMs: 30_000 })
    await heard(0)
    clock.advance(1000)
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(tries, [ids[0]])
    await heard(1)
    clock.advance(1000)
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(tries, [ids[0], ids[1]], 'the failed try left the difference to the next peer')
    await heard(2)
    clock.advance(1000)
    assert.equal(tries.length, 2, 'the same difference, shown by a third peer, waits for the resync time')
    repair.stop()
  })
})
