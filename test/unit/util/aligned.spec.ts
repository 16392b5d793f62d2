import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { alignedBuffer, DIRECT_ALIGN, isAligned } from '../../../src/util/aligned.js'
import { createBufferPool } from '../../../src/util/buffers.js'

describe('util/aligned', () => {
  it('makes zeroed buffers that start on a page boundary, and tells their aligned views from others', () => {
    const b = alignedBuffer(3 * DIRECT_ALIGN + 5)
    assert.equal(b.byteLength, 3 * DIRECT_ALIGN + 5)
    assert.ok(b.every(x => x === 0))
    b.fill(7)
    assert.equal(b[b.byteLength - 1], 7)
    assert.ok(isAligned(b))
    assert.ok(isAligned(b.subarray(DIRECT_ALIGN)))
    assert.equal(isAligned(b.subarray(512)), false)
    assert.equal(isAligned(new Uint8Array(4 * DIRECT_ALIGN)), false, 'an ordinary buffer is not known to be aligned')
  })

  it('backs a chunk-sized buffer at once, zeroed and writable to its last byte', () => {
    const rssKiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1])
    const size = 4 * 1024 * 1024 + DIRECT_ALIGN // not a whole number of huge pages: the mapping is cut to size
    const before = rssKiB()
    const bufs = Array.from({ length: 4 }, () => alignedBuffer(size))
    // Backed before any byte is touched (one call, not a fault per page on the first fill).
    assert.ok(rssKiB() - before >= 0.9 * 4 * size / 1024, `RSS grew ${rssKiB() - before} KiB for ${4 * size / 1024} KiB of buffers`)
    for (const b of bufs) {
      assert.equal(b.byteLength, size)
      assert.ok(isAligned(b))
      assert.ok(b.every(x => x === 0))
      b[0] = 1
      b[size - 1] = 2
      assert.equal(b[size - 1], 2)
    }
  })

  it('refuses sizes it cannot map', () => {
    assert.throws(() => alignedBuffer(0), RangeError)
    assert.throws(() => alignedBuffer(-1), RangeError)
    assert.throws(() => alignedBuffer(1.5), RangeError)
  })

  it('backs the chunk pool\'s large buffers, not its small ones', () => {
    const pool = createBufferPool(0, 4)
    assert.ok(isAligned(pool.take(4 * 1024 * 1024)))
    assert.equal(isAligned(pool.take(64 * 1024)), false)
    assert.equal(isAligned(pool.take(4 * 1024 * 1024 + 1)), false, 'a length off the block size is never written directly')
  })
})
