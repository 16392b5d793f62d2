import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { open, readFile, statfs } from 'node:fs/promises'
import { promisify } from 'node:util'
import { randomBytes } from 'node:crypto'
import { alignedBuffer } from '../../../src/util/aligned.js'
import { makeBlob } from '../../fixtures/blob.js'
import { withStore, type StoreEnv } from '../../fixtures/store.js'

const MiB = 1024 * 1024
const TMPFS_MAGIC = 0x01021994

/** Bytes of `path` in the page cache (util-linux fincore). */
async function cached (path: string): Promise<number> {
  const { stdout } = await promisify(execFile)('fincore', ['--bytes', '--noheadings', '--raw', '-o', 'RES', path])
  return Number(stdout.trim())
}

describe('partial blobs: uncached writes', function () {
  let env: StoreEnv
  const size = 9 * MiB + 100
  const digest = makeBlob(16, 'partial-direct').digest
  beforeEach(async () => { env = await withStore() })
  afterEach(async () => { await env.cleanup() })

  it('write aligned chunks past the page cache, and everything else through it', async function () {
    const p = await env.store().openPartial(digest, size)
    try {
      // The check runs where the store lives. A file system without O_DIRECT takes every write
      // through the cache, and tmpfs takes O_DIRECT but is itself the page cache.
      const probe = await open(p.path, constants.O_RDWR | constants.O_DIRECT).catch(() => undefined)
      await probe?.close()
      const tmpfs = (await statfs(p.path)).type === TMPFS_MAGIC
      const hasFincore = await cached(p.path).then(() => true, () => false)
      if (probe === undefined || tmpfs || !hasFincore) this.skip() // reason: no uncached path to see on this file system, or no fincore to see it with
      const first = alignedBuffer(4 * MiB)
      first.set(randomBytes(4 * MiB))
      await p.write(first, 0, { uncached: true })
      assert.equal(await cached(p.path), 0, 'an aligned uncached chunk left nothing in the page cache')

      // Not aligned in memory, not uncached, or off the block size: through the cache, all the same bytes.
      const second = randomBytes(4 * MiB)
      await p.write(second, 4 * MiB, { uncached: true })
      const inCache = await cached(p.path)
      assert.ok(inCache >= 4 * MiB, `an ordinary buffer goes through the cache (${inCache} bytes cached)`)
      const tail = alignedBuffer(MiB + 100)
      tail.set(randomBytes(MiB + 100))
      await p.write(tail, 8 * MiB, { uncached: true })

      // Three at once: two queue for the disk, the third goes through the cache rather than wait.
      const three = [0, 1, 2].map(() => { const b = alignedBuffer(MiB); b.set(randomBytes(MiB)); return b })
      const before = await cached(p.path)
      await Promise.all(three.map(async (b, i) => { await p.write(b, i * MiB, { uncached: true }) }))
      assert.equal(await cached(p.path) - before, MiB, 'one of three writes at once went through the cache')
      first.set(Buffer.concat(three), 0)

      const back = Buffer.alloc(size)
      assert.equal(await p.read(back, 0, size), size)
      assert.deepEqual(back, Buffer.concat([first, second, tail]))
      await p.close()
      assert.deepEqual(await readFile(p.path), back)
    } finally {
      await p.close()
    }
  })
})
