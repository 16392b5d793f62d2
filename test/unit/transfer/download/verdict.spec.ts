import assert from 'node:assert/strict'
import fc from 'fast-check'
import { chunkVerdict, type ChunkCheck } from '../../../../src/transfer/download/verdict.js'

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 })
/** A chunk that arrived: where it came from, and what it was checked against (the map's chain, or its own hash and what the peer announced). */
const arbCheck = fc.record({
  fromPeer: fc.boolean(),
  fitsMap: fc.option(fc.boolean(), { nil: undefined }),
  hash: fc.option(hash, { nil: undefined }),
  announced: fc.option(hash, { nil: undefined })
}, { requiredKeys: ['fromPeer'] })

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => a !== undefined && b !== undefined && Buffer.compare(a, b) === 0

describe('transfer/download/verdict', () => {
  it('never accepts a chunk that does not fit the chunk map', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      if (c.fitsMap === false) assert.notEqual(v.kind, 'accept')
    }))
  })

  it('never accepts a peer\'s chunk it cannot check, nor one that differs from what the peer announced', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      if (!c.fromPeer || v.kind !== 'accept') return
      assert.ok(c.fitsMap === true || (c.fitsMap === undefined && same(c.announced, c.hash)), 'an accepted peer chunk fits the map or its announced hash')
    }))
  })

  it('bans a peer for a mismatch, and fails the download for the registry\'s', () => {
    fc.assert(fc.property(arbCheck, (c: ChunkCheck) => {
      const v = chunkVerdict(c)
      const mismatch = c.fitsMap === false || (c.fitsMap === undefined && c.fromPeer && c.announced !== undefined && !same(c.announced, c.hash))
      if (mismatch) assert.equal(v.kind, c.fromPeer ? 'ban' : 'fatal')
    }))
  })

  it('accepts a matching chunk, saying what it was checked against', () => {
    fc.assert(fc.property(hash, fc.boolean(), fc.boolean(), (h, fromPeer, withMap) => {
      const v = chunkVerdict(withMap ? { fromPeer, fitsMap: true } : { hash: h, fromPeer, announced: h })
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
