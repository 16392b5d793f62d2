import assert from 'node:assert/strict'
import fc from 'fast-check'
import { chunkVerdict, type ChunkCheck } from '../../../../src/transfer/download/verdict.js'

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 })
/** A chunk that arrived: its hash, where it came from, and what there was to check it against. */
const arbCheck = fc.record({
  hash,
  fromPeer: fc.boolean(),
  mapHash: fc.option(hash, { nil: undefined }),
  announced: fc.option(hash, { nil: undefined })
}, { requiredKeys: ['hash', 'fromPeer'] })

const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.compare(a, b) === 0

describe('transfer/download/verdict', () => {
  it('never accepts a chunk that differs from the chunk map', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      if (c.mapHash !== undefined && !same(c.mapHash, c.hash)) assert.notEqual(v.kind, 'accept')
    }))
  })

  it('never accepts a peer\'s chunk it cannot check, nor one that differs from what the peer announced', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      if (!c.fromPeer || v.kind !== 'accept') return
      const want = c.mapHash ?? c.announced
      assert.ok(want !== undefined && same(want, c.hash), 'an accepted peer chunk matches its hash')
    }))
  })

  it('bans a peer for a mismatch, and fails the download for the registry\'s', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      const want = c.mapHash ?? (c.fromPeer ? c.announced : undefined)
      if (want !== undefined && !same(want, c.hash)) assert.equal(v.kind, c.fromPeer ? 'ban' : 'fatal')
    }))
  })

  it('accepts a matching chunk, saying what it was checked against', () => {
    fc.assert(fc.property(hash, fc.boolean(), fc.boolean(), (h, fromPeer, withMap) => {
      const v = chunkVerdict(withMap ? { hash: h, fromPeer, mapHash: h } : { hash: h, fromPeer, announced: h })
      assert.deepEqual(v, { kind: 'accept', checked: withMap ? 'map' : fromPeer ? 'announced' : 'none' })
    }))
  })

  it('takes the registry\'s chunk without a map unchecked (the whole-blob sha256 judges it), and a peer\'s never', () => {
    fc.assert(fc.property(hash, (h) => {
      assert.deepEqual(chunkVerdict({ hash: h, fromPeer: false }), { kind: 'accept', checked: 'none' })
      assert.deepEqual(chunkVerdict({ hash: h, fromPeer: true }), { kind: 'reject' })
    }))
  })
})
