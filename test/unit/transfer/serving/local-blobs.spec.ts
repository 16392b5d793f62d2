import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bitmap } from '../../../../src/util/bitmap.js'
import { chunkCount, chunkSize, type ChunkMapStore, type PartialBlob, type Store } from '../../../../src/store/index.js'
import { createArrivals } from '../../../../src/transfer/serving/arrivals.js'
import { createLocalBlobs } from '../../../../src/transfer/serving/local-blobs.js'
import { makeBlob } from '../../../fixtures/blob.js'
import { chunkOf } from '../../../fixtures/local-blobs.js'

const MiB = 1024 * 1024
const blob = makeBlob(chunkSize(8 * MiB) * 2 + 100, 'local-blobs')

describe('local blobs: a chunk read as its download finishes', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'ollamad-local-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  /** A download of `blob` holding every chunk, whose file was closed (the download ended) before the read. */
  const closedPartial = (): PartialBlob => {
    const bitmap = new Bitmap(chunkCount(blob.size))
    for (let i = 0; i < bitmap.length; i++) bitmap.set(i)
    const closed = Object.assign(new Error('file closed'), { code: 'EBADF' })
    return { digest: blob.digest, size: blob.size, bitmap, read: async () => { throw closed } } as unknown as PartialBlob
  }
  const local = (partial: PartialBlob): ReturnType<typeof createLocalBlobs> => createLocalBlobs({
    store: { layout: { blob: () => join(dir, 'blob') }, list: () => [] } as unknown as Store,
    puller: { partials: () => [partial], arrivals: createArrivals() },
    maps: {} as unknown as ChunkMapStore
  })

  it('reads it from the published blob once that is there', async () => {
    // Published after the lookup found only the partial: the first look sees no complete blob.
    const partial = closedPartial()
    const read = partial.read
    partial.read = async (...args) => { await writeFile(join(dir, 'blob'), blob.data); return await read(...args) }
    const got = await local(partial).readChunk(blob.digest, 1)
    assert.ok(got !== undefined)
    assert.deepEqual(Buffer.from(got), Buffer.from(chunkOf(blob.data, 1)))
  })

  it('says it does not hold it while the blob is not published yet, rather than failing', async () => {
    assert.equal(await local(closedPartial()).readChunk(blob.digest, 0), undefined)
  })

  it('still fails on any other read error', async () => {
    const partial = closedPartial()
    partial.read = async () => { throw Object.assign(new Error('i/o error'), { code: 'EIO' }) }
    await assert.rejects(local(partial).readChunk(blob.digest, 0), /i\/o error/)
  })
})
