import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createChainHasher, fitsChain, fitsChainAsync, sha256Async } from '../../../src/util/sha256-chain.js'

const MiB = 1024 * 1024
const CHUNK = MiB
const range = (size: number, i: number): { start: number, end: number } => ({ start: i * CHUNK, end: Math.min(size, (i + 1) * CHUNK) })
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('util/sha256-chain', () => {
  // Three chunks and a short fourth, so the tail ends mid-block.
  const size = 3 * CHUNK + 1000 + 13
  const data = randomBytes(size)
  const chainOf = (pieces: number): Uint8Array[] => {
    const h = createChainHasher(size, CHUNK)
    for (let i = 0; i < 4; i++) {
      const { start, end } = range(size, i)
      // Pieces of whole 64-byte blocks, the last one of the blob any length.
      const step = Math.ceil((end - start) / pieces / 64) * 64
      for (let pos = start; pos < end; pos += step) h.update(data.subarray(pos, Math.min(end, pos + step)))
    }
    return h.chain()
  }

  it('ends the chain in the same digest as node:crypto, however the chunks are cut into pieces', () => {
    const one = chainOf(1)
    assert.equal(one.length, 4)
    assert.equal(Buffer.from(one[3] as Uint8Array).toString('hex'), sha256(data))
    assert.deepEqual(chainOf(7), one)
  })

  it('lets every chunk fit its place and no other; a flipped bit or a short chunk does not fit', () => {
    const chain = chainOf(1)
    for (let i = 0; i < 4; i++) {
      const { start, end } = range(size, i)
      const chunk = Buffer.from(data.subarray(start, end))
      assert.ok(fitsChain(chain, size, CHUNK, i, chunk), `chunk ${i} fits`)
      for (let j = 0; j < 4; j++) if (j !== i) assert.ok(!fitsChain(chain, size, CHUNK, j, chunk), `chunk ${i} does not fit at ${j}`)
      chunk[chunk.length >> 1] = (chunk[chunk.length >> 1] as number) ^ 1
      assert.ok(!fitsChain(chain, size, CHUNK, i, chunk), `chunk ${i} with a flipped bit`)
      assert.ok(!fitsChain(chain, size, CHUNK, i, data.subarray(start, end - 64)), `chunk ${i} cut short`)
    }
    assert.ok(!fitsChain(chain, size, CHUNK, 4, new Uint8Array(0)), 'no chunk past the end')
  })

  it('refuses pieces that cross a chunk\'s end, or end off a 64-byte block before the blob does', () => {
    const h = createChainHasher(size, CHUNK)
    assert.throws(() => { h.update(data.subarray(0, CHUNK + 64)) }, /crosses the end of chunk 0/)
    assert.throws(() => { h.update(data.subarray(0, 100)) }, /64-byte block/)
    h.update(data.subarray(0, 128))
    assert.equal(h.position(), 128)
    assert.throws(() => h.chain(), /hashed to byte 128 only/)
  })

  it('checks chunks off the event loop with the same answers, many at once', async () => {
    const chain = chainOf(1)
    const chunk = (i: number): Uint8Array => data.subarray(range(size, i).start, range(size, i).end)
    const fits = await Promise.all([0, 1, 2, 3].flatMap(i => [0, 1, 2, 3].map(async at => await fitsChainAsync(chain, size, CHUNK, at, chunk(i)))))
    assert.deepEqual(fits, [0, 1, 2, 3].flatMap(i => [0, 1, 2, 3].map(at => at === i && fitsChain(chain, size, CHUNK, at, chunk(i)))))
    assert.equal(Buffer.from(await sha256Async(data)).toString('hex'), sha256(data))
    assert.equal(Buffer.from(await sha256Async(new Uint8Array(0))).toString('hex'), sha256(new Uint8Array(0)))
    assert.equal(await fitsChainAsync(chain, size, CHUNK, 1, chunk(1).subarray(1)), false, 'a short chunk does not fit')
  })

  it('gives an empty blob the chain of one empty chunk', () => {
    const h = createChainHasher(0, CHUNK)
    assert.equal(h.hex(), sha256(new Uint8Array(0)))
    assert.ok(fitsChain(h.chain(), 0, CHUNK, 0, new Uint8Array(0)))
  })
})
