import assert from 'node:assert/strict'
import { chunkSize, chunkCount, chunkRange, MIN_CHUNK, MAX_CHUNK } from '../../../src/store/chunks.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** Sizes around every boundary where the chunk size may change, and some ordinary ones. */
const SIZES = [
  0, 1, 2, 1000, MIN_CHUNK - 1, MIN_CHUNK, MIN_CHUNK + 1, 3 * MIN_CHUNK, 3 * MIN_CHUNK + 7,
  4 * GiB - 1, 4 * GiB, 4 * GiB + 1, 8 * GiB, 8 * GiB + 1, 16 * GiB, 16 * GiB + 1, 20 * GiB, 20 * GiB + 12345, 2 ** 41
]

const isPowerOfTwo = (n: number): boolean => n > 0 && Number.isInteger(Math.log2(n))

/** Checks that the chunks of a blob tile [0, size) in order, with no gap and no overlap. */
function assertTiles (size: number): void {
  const n = chunkCount(size)
  const c = chunkSize(size)
  let expectStart = 0
  for (let i = 0; i < n; i++) {
    const r = chunkRange(size, i)
    assert.equal(r.start, expectStart, `chunk ${i} of ${size} starts at ${r.start}`)
    assert.ok(r.end > r.start || size === 0, `chunk ${i} of ${size} is empty`)
    assert.ok(r.end - r.start <= c, `chunk ${i} of ${size} is longer than the chunk size`)
    if (i < n - 1) assert.equal(r.end - r.start, c, `only the last chunk of ${size} may be short`)
    expectStart = r.end
  }
  assert.equal(expectStart, size, `chunks of ${size} end at ${expectStart}`)
}

describe('transfer/chunks', () => {
  describe('chunkSize', () => {
    it('is a power of two between 4 MiB and 16 MiB for every size', () => {
      for (const s of SIZES) {
        const c = chunkSize(s)
        assert.ok(c >= 4 * MiB && c <= 16 * MiB, `chunkSize(${s}) = ${c}`)
        assert.ok(isPowerOfTwo(c), `chunkSize(${s}) = ${c}`)
      }
      assert.equal(MIN_CHUNK, 4 * MiB)
      assert.equal(MAX_CHUNK, 16 * MiB)
    })

    it('is 4 MiB up to 4 GiB, 8 MiB up to 8 GiB, then 16 MiB (about 1/1024 of the blob)', () => {
      assert.equal(chunkSize(0), 4 * MiB)
      assert.equal(chunkSize(4 * GiB), 4 * MiB)
      assert.equal(chunkSize(4 * GiB + 1), 8 * MiB)
      assert.equal(chunkSize(8 * GiB), 8 * MiB)
      assert.equal(chunkSize(8 * GiB + 1), 16 * MiB)
      assert.equal(chunkSize(20 * GiB), 16 * MiB)
      assert.equal(chunkSize(2 ** 41), 16 * MiB)
    })

    it('never shrinks as the blob grows', () => {
      let prev = 0
      for (let s = 0; s <= 40 * GiB; s += 97 * MiB + 13) {
        const c = chunkSize(s)
        assert.ok(c >= prev, `chunkSize(${s}) = ${c} < ${prev}`)
        prev = c
      }
    })
  })

  describe('chunkCount and chunkRange', () => {
    it('cut a blob into chunks that cover it without gaps or overlap', () => {
      for (const s of SIZES) assertTiles(s)
    })

    it('give one empty chunk for an empty blob and one byte for a one-byte blob', () => {
      assert.equal(chunkCount(0), 1)
      assert.deepEqual(chunkRange(0, 0), { start: 0, end: 0 })
      assert.equal(chunkCount(1), 1)
      assert.deepEqual(chunkRange(1, 0), { start: 0, end: 1 })
    })

    it('give whole chunks for exact multiples and a short last chunk otherwise', () => {
      assert.equal(chunkCount(3 * MIN_CHUNK), 3)
      assert.deepEqual(chunkRange(3 * MIN_CHUNK, 2), { start: 2 * MIN_CHUNK, end: 3 * MIN_CHUNK })
      assert.equal(chunkCount(3 * MIN_CHUNK + 7), 4)
      assert.deepEqual(chunkRange(3 * MIN_CHUNK + 7, 3), { start: 3 * MIN_CHUNK, end: 3 * MIN_CHUNK + 7 })
    })

    it('cut 20 GiB into 1280 chunks of 16 MiB', () => {
      assert.equal(chunkCount(20 * GiB), 1280)
      assert.deepEqual(chunkRange(20 * GiB, 1279), { start: 20 * GiB - 16 * MiB, end: 20 * GiB })
    })
  })
})
