import assert from 'node:assert/strict'
import { createBufferPool } from '../../../src/util/buffers.js'

describe('util/buffers: a pool of chunk buffers', () => {
  it('gives a spare back for a later request that fits, the smallest that fits first', () => {
    const pool = createBufferPool(0, 8)
    const small = pool.take(4)
    const large = pool.take(16)
    assert.equal(small.byteLength, 4)
    pool.give(large)
    pool.give(small)
    assert.equal(pool.take(3), small, 'the 4-byte one serves 3 bytes')
    assert.equal(pool.take(10), large)
    assert.notEqual(pool.take(10), large, 'taken once, it is not handed out twice')
  })

  it('makes buffers of at least its chunk size', () => {
    assert.equal(createBufferPool(64, 2).take(10).byteLength, 64)
  })

  it('keeps at most `keep` spares and at most `maxSpareBytes` of them', () => {
    const byCount = createBufferPool(0, 1)
    const [a, b] = [byCount.take(8), byCount.take(8)]
    byCount.give(a)
    byCount.give(b)
    assert.equal(byCount.take(8), a)
    assert.notEqual(byCount.take(8), b, 'the second spare was not kept')
    const byBytes = createBufferPool(0, 10, 20)
    const [c, d] = [byBytes.take(16), byBytes.take(8)]
    byBytes.give(c)
    byBytes.give(d)
    assert.equal(byBytes.take(8), c, 'only the 16-byte one fit under 20 bytes')
  })

  it('lets a larger buffer take the place of smaller spares, so small reads never crowd out chunk buffers', () => {
    const pool = createBufferPool(0, 2)
    const [tiny, little, chunk] = [pool.take(83), pool.take(100), pool.take(4096)]
    pool.give(tiny)
    pool.give(little)
    pool.give(chunk)
    assert.equal(pool.take(4096), chunk, 'the chunk buffer was kept, in place of the smallest spare')
    assert.equal(pool.take(90), little)
    assert.notEqual(pool.take(50), tiny, 'the smallest was let go')
    const byBytes = createBufferPool(0, 10, 100)
    const [a, b, c] = [byBytes.take(30), byBytes.take(30), byBytes.take(70)]
    byBytes.give(a)
    byBytes.give(b)
    byBytes.give(c)
    assert.equal(byBytes.take(70), c, 'one 30-byte spare made room under the byte cap')
    assert.equal(byBytes.take(30), b, 'the other stayed')
    const d = byBytes.take(120)
    byBytes.give(d)
    assert.notEqual(byBytes.take(120), d, 'a buffer over the cap on its own is never kept')
  })
})
