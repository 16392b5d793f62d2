import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createClusterState, signRecord, verifyRecord, decodeClusterMessage, ClusterMessage, NodeRecord, type SignedRecord } from '../../../src/cluster/index.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'
import { MAX_RECORDS_TOTAL_BYTES } from '../../../src/cluster/constants.js'
import { isOllamadError } from '../../../src/errors.js'


describe('cluster state', () => {
  const keys: PrivateKey[] = []
  before(async () => { for (let i = 0; i < 3; i++) keys.push(await generateKeyPair('Ed25519')) })
  const rec = async (k: number, incarnation: number, sequence: number): Promise<{ signed: SignedRecord, record: NodeRecord }> => {
    const key = keys[k] as PrivateKey
    const record = blankRecord({ name: `n${k}-${incarnation}-${sequence}`, peerId: peerIdFromPrivateKey(key).toString(), incarnation: BigInt(incarnation), sequence: BigInt(sequence) })
    return { signed: await signRecord(key, record), record }
  }

  it('merges records in any order, any number of times, to the same state (commutative, idempotent)', async () => {
    const pool: Array<{ signed: SignedRecord, record: NodeRecord }> = []
    for (let k = 0; k < 3; k++) for (let inc = 1; inc <= 2; inc++) for (let seq = 1; seq <= 3; seq++) pool.push(await rec(k, inc, seq))
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 0, max: pool.length - 1 }), { minLength: 1, maxLength: 40 }), async (order) => {
      const a = createClusterState(createFakeClock(), { selfId: 'me' })
      const b = createClusterState(createFakeClock(), { selfId: 'me' })
      for (const i of order) { const r = pool[i] as typeof pool[number]; a.merge(r.signed, r.record) }
      for (const i of [...order].reverse().concat(order)) { const r = pool[i] as typeof pool[number]; b.merge(r.signed, r.record) }
      const view = (s: typeof a): string[] => s.members().map(m => `${m.peerId}:${m.record.name}`).sort()
      assert.deepEqual(view(a), view(b))
      // Each node's surviving record is its highest (incarnation, sequence) among those merged.
      for (const m of a.members()) {
        const best = order.map(i => pool[i] as typeof pool[number]).filter(r => r.record.peerId === m.peerId)
          .sort((x, y) => Number(y.record.incarnation - x.record.incarnation) || Number(y.record.sequence - x.record.sequence))[0]
        assert.equal(m.record.name, best?.record.name)
      }
    }), { numRuns: 200 })
  })

  it('lets a restarted node (higher incarnation) supersede its old records even with a lower sequence', async () => {
    const s = createClusterState(createFakeClock(), { selfId: 'me' })
    const old = await rec(0, 1, 50)
    const fresh = await rec(0, 2, 1)
    s.merge(old.signed, old.record)
    assert.equal(s.merge(fresh.signed, fresh.record).changed, true)
    assert.equal(s.merge(old.signed, old.record).changed, false)
    assert.equal(s.members()[0]?.record.name, fresh.record.name)
  })

  it('reports a gap when sequence numbers were skipped', async () => {
    const s = createClusterState(createFakeClock(), { selfId: 'me' })
    const r1 = await rec(1, 1, 1)
    const r3 = await rec(1, 1, 3)
    s.merge(r1.signed, r1.record)
    assert.deepEqual(s.merge(r3.signed, r3.record), { changed: true, gap: true })
  })

  it('judges liveness by the local time a node\'s version last rose, not by relayed old records', async () => {
    const clock = createFakeClock()
    const s = createClusterState(clock, { selfId: 'me', suspectAfterMs: 1000, goneAfterMs: 3000 })
    const r1 = await rec(2, 1, 1)
    s.merge(r1.signed, r1.record)
    const id = r1.record.peerId
    assert.equal(s.member(id)?.liveness, 'alive')
    clock.advance(1500)
    s.merge(r1.signed, r1.record)
    assert.equal(s.member(id)?.liveness, 'suspect')
    clock.advance(2000)
    assert.equal(s.member(id)?.liveness, 'gone')
    const r2 = await rec(2, 1, 2)
    s.merge(r2.signed, r2.record)
    assert.equal(s.member(id)?.liveness, 'alive')
  })

  it('forgets a node gone past the forget time, and an old copy of its record does not bring it back', async () => {
    const clock = createFakeClock()
    const s = createClusterState(clock, { selfId: 'me', suspectAfterMs: 1000, goneAfterMs: 3000, forgetAfterMs: 10_000 })
    const r1 = await rec(0, 1, 1)
    const other = await rec(1, 1, 1)
    s.merge(r1.signed, r1.record)
    clock.advance(9_000)
    s.merge(other.signed, other.record)
    assert.deepEqual(s.forget(), [], 'gone, but not long enough')
    clock.advance(1_000)
    assert.deepEqual(s.forget().map(m => m.peerId), [r1.record.peerId])
    assert.equal(s.member(r1.record.peerId), undefined)
    assert.equal(s.forgotten(r1.record.peerId), true)
    assert.ok(s.member(other.record.peerId), 'one heard from later is kept')
    // A peer that still holds the old record relays it: stale, not a new member.
    assert.equal(s.merge(r1.signed, r1.record).changed, false)
    assert.equal(s.member(r1.record.peerId), undefined)
    // The node itself comes back with a newer version: a member again.
    const back = await rec(0, 2, 1)
    assert.equal(s.merge(back.signed, back.record).changed, true)
    assert.equal(s.member(r1.record.peerId)?.liveness, 'alive')
    assert.equal(s.forgotten(r1.record.peerId), false)
  })

  it('holds at most MAX_RECORDS_TOTAL_BYTES of other nodes\' records, and a member may still replace its own', async () => {
    const s = createClusterState(createFakeClock(), { selfId: 'me' })
    const big = 'x'.repeat(500 * 1024)
    const over = Math.ceil(MAX_RECORDS_TOTAL_BYTES / (500 * 1024)) + 1
    let refused = 0
    let first: NodeRecord | undefined
    for (let i = 0; i < over; i++) {
      const key = await generateKeyPair('Ed25519')
      const record = blankRecord({ name: big, peerId: peerIdFromPrivateKey(key).toString() })
      first ??= record
      try { s.merge({ record: NodeRecord.encode(record), signature: new Uint8Array(0), publicKey: new Uint8Array(0) }, record) } catch (e) {
        assert.ok(isOllamadError(e, 'SIZE_LIMIT'), String(e))
        refused++
      }
    }
    assert.ok(refused >= 1 && refused <= 2, `refused ${refused}`)
    assert.equal(s.members().length, over - refused)
    // A held member's smaller record always fits.
    const smaller = { ...(first as NodeRecord), name: 'small', sequence: 2n }
    assert.equal(s.merge({ record: NodeRecord.encode(smaller), signature: new Uint8Array(0), publicKey: new Uint8Array(0) }, smaller).changed, true)
  })

  it('never forgets itself', async () => {
    const clock = createFakeClock()
    const self = await rec(0, 1, 1)
    const s = createClusterState(clock, { selfId: self.record.peerId, goneAfterMs: 10, forgetAfterMs: 10 })
    s.merge(self.signed, self.record)
    clock.advance(1_000_000)
    assert.deepEqual(s.forget(), [])
    assert.ok(s.member(self.record.peerId))
  })

  it('accepts a record signed by its owner and refuses forged or tampered ones', async () => {
    const good = await rec(0, 1, 1)
    assert.equal((await verifyRecord(good.signed)).name, good.record.name)
    // Someone else's key claiming node 0's peer id.
    const forged = await signRecord(keys[1] as PrivateKey, good.record)
    await assert.rejects(verifyRecord(forged), /not by its author/)
    const tampered = { ...good.signed, record: NodeRecord.encode({ ...good.record, name: 'evil' }) }
    await assert.rejects(verifyRecord(tampered), /bad signature/)
    await assert.rejects(verifyRecord({ ...good.signed, publicKey: new Uint8Array([1, 2, 3]) }), /invalid node record/)
  })

  it('refuses garbage and oversized gossip payloads', async () => {
    await assert.rejects(decodeClusterMessage(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])))
    const good = await rec(0, 1, 1)
    const many = ClusterMessage.encode({ records: Array.from({ length: 65 }, () => good.signed) })
    await assert.rejects(decodeClusterMessage(many))
    const huge = await rec(0, 1, 2)
    await assert.rejects(signRecord(keys[0] as PrivateKey, { ...huge.record, addrs: Array.from({ length: 10_000 }, () => 'x'.repeat(100)) }), /exceeds/)
  })

  it('holds at most 1024 records: more identities are refused, known ones and its own still merge', () => {
    const s = createClusterState(createFakeClock(), { selfId: 'me' })
    const signed = { record: new Uint8Array(100) } as SignedRecord
    for (let i = 0; i < 1024; i++) s.merge(signed, blankRecord({ peerId: `p${i}`, sequence: 1n }))
    assert.throws(() => s.merge(signed, blankRecord({ peerId: 'one-too-many', sequence: 1n })), /more than 1024 node records/)
    assert.equal(s.merge(signed, blankRecord({ peerId: 'p7', sequence: 2n })).changed, true)
    assert.equal(s.merge(signed, blankRecord({ peerId: 'me', sequence: 1n })).changed, true)
    assert.equal(s.members().length, 1025)
  })
})
