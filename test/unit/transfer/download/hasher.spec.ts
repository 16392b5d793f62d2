import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { truncate } from 'node:fs/promises'
import { chunkCount, chunkRange, computeChunkMap, type PartialBlob } from '../../../../src/store/index.js'
import { createInOrderHasher } from '../../../../src/transfer/download/hasher.js'
import { makeBlob } from '../../../fixtures/blob.js'
import { withStore, type StoreEnv } from '../../../fixtures/store.js'

describe('in-order hasher', () => {
  // Five 4 MiB chunks, the last one short.
  const blob = makeBlob(4 * 4 * 1024 * 1024 + 12345)
  let env: StoreEnv
  let partial: PartialBlob
  let want: Uint8Array[]

  before(async () => {
    want = (await computeChunkMap(async (buf, pos, len) => { buf.set(blob.data.subarray(pos, pos + len)); return Math.min(len, blob.size - pos) }, blob.size)).chain
  })
  beforeEach(async () => {
    env = await withStore()
    partial = await env.store().openPartial(blob.digest, blob.size)
  })
  afterEach(async () => {
    await partial.close()
    await env.cleanup()
  })

  /** Writes the chunks in this order, telling the hasher after each one as a download would. */
  const land = async (order: number[], tell: (i: number) => void): Promise<void> => {
    for (const i of order) {
      const { start, end } = chunkRange(blob.size, i)
      await partial.write(blob.data.subarray(start, end), start)
      await partial.markDone(i)
      tell(i)
    }
  }

  for (const thread of [false, true]) {
    const where = thread ? 'on a hash thread' : 'on the main thread'
    it(`hashes chunks that land out of order, in byte order, ${where}`, async () => {
      assert.equal(chunkCount(blob.size), 5)
      const hasher = createInOrderHasher(partial, { thread })
      await land([3, 1, 0, 4, 2], () => { hasher.kick() })
      assert.equal(`sha256:${await hasher.finish()}`, blob.digest)
      assert.deepEqual(hasher.chain(), want)
    })

    it(`takes chunks offered from memory ${where}`, async () => {
      const hasher = createInOrderHasher(partial, { thread })
      await land([0, 1, 2, 3, 4], (i) => {
        const { start, end } = chunkRange(blob.size, i)
        hasher.offer(i, blob.data.subarray(start, end))
      })
      assert.equal(`sha256:${await hasher.finish()}`, blob.digest)
      assert.deepEqual(hasher.chain(), want)
    })

    it(`refuses to finish with chunks missing, and fails on a short file, ${where}`, async () => {
      const hasher = createInOrderHasher(partial, { thread })
      await land([0, 1], () => { hasher.kick() })
      await assert.rejects(hasher.finish(), /incomplete: 2 of 5 chunks/)
      const broken = createInOrderHasher(partial, { thread })
      await truncate(partial.path, chunkRange(blob.size, 1).start + 10)
      broken.kick()
      await assert.rejects(broken.finish(), /short read/)
      await broken.close()
      await hasher.close()
    })
  }

  it('a closed hash thread cannot finish, and closing twice is harmless', async () => {
    await land([0, 1, 2, 3, 4], () => {})
    const threaded = createInOrderHasher(partial, { thread: true })
    await threaded.close()
    await threaded.close()
    await assert.rejects(threaded.finish(), /hash thread ended/)
  })
})
