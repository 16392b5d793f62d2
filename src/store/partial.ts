import { open, mkdir, rm, stat, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Bitmap } from '../util/bitmap.js'
import { OllamadError } from '../errors.js'
import { chunkCount, chunkRange } from './chunks.js'
import type { Digest } from './digest.js'
import type { Layout } from './layout.js'
import type { StateDb } from './db.js'
import { createDirectWriter, writeFully } from './direct-writes.js'

interface PartialRecord {
  size: number
  chunks: number
  /** Bitmap of finished chunks, base64. */
  done: string
  /** Bytes written from the start of unfinished chunks, by chunk index. */
  progress?: Record<string, number>
}

/**
 * A blob being assembled chunk by chunk outside blobs/. Finished chunks, and how far unfinished
 * ones got, are persisted in the state database, so a restart resumes instead of starting over.
 * Every byte is checked before the blob is published: against the chunk map's sha256 chain, or
 * by the whole-blob sha256.
 */
export interface PartialBlob {
  digest: Digest
  size: number
  path: string
  bitmap: Bitmap
  /**
   * Writes bytes at `position`. With `uncached` (bytes this node will not read back soon), a
   * page-aligned buffer on block boundaries goes past the page cache, straight to the disk.
   */
  write: (data: Uint8Array, position: number, o?: { uncached?: boolean }) => Promise<void>
  read: (buf: Uint8Array, position: number, length: number) => Promise<number>
  markDone: (chunk: number) => Promise<void>
  /** Bytes already written from the start of an unfinished chunk. */
  chunkProgress: (chunk: number) => number
  /** Records how far an unfinished chunk got; persisted by the next markDone or flush. */
  setChunkProgress: (chunk: number, bytes: number) => void
  flush: () => Promise<void>
  bytesDone: () => number
  close: () => Promise<void>
  /** Deletes the data and its record (after a digest mismatch, or once published). */
  discard: () => Promise<void>
}

const key = (d: Digest): string => `partial/${d}`
const run = promisify(execFile)

/** Bytes written between background flushes of a partial to the disk. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024

/** Blobs from this size up get their disk space reserved when their partial is made. */
const RESERVE_MIN_BYTES = 1024 * 1024

/**
 * Reserves a partial's blocks up front (fallocate(1); Node has no fallocate), so a disk that
 * cannot hold the blob says so at once rather than at 97%. Existing bytes are kept. Where the
 * file system or the tool cannot, the file stays sparse and a full disk shows when written.
 */
async function reserve (path: string, size: number, digest: Digest): Promise<void> {
  if (size < RESERVE_MIN_BYTES) return
  try {
    await run('fallocate', ['-l', String(size), path])
  } catch (e) {
    if (/No space left|Disk quota/i.test(String((e as { stderr?: string }).stderr ?? ''))) {
      throw new OllamadError('NO_ROOM', `the disk is full: cannot reserve ${size} bytes for ${digest}; free space and pull again`)
    }
  }
}

/** A full disk (or quota) as NO_ROOM, which no retry fixes and no source caused. */
export function diskError (e: unknown, digest: Digest): unknown {
  const code = (e as NodeJS.ErrnoException).code
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e
  return new OllamadError('NO_ROOM', `the disk is full: cannot write ${digest} (${code}); free space and pull again to resume`, { cause: e })
}

export async function openPartial (layout: Layout, db: StateDb, digest: Digest, size: number): Promise<PartialBlob> {
  const path = layout.partial(digest)
  await mkdir(dirname(path), { recursive: true })
  const chunks = chunkCount(size)
  let rec = await db.get<PartialRecord>(key(digest))
  const onDisk = await stat(path).then(s => s.size, () => -1)
  if (rec === undefined || rec.size !== size || rec.chunks !== chunks || onDisk !== size) {
    rec = { size, chunks, done: '' }
  }
  const bitmap = new Bitmap(chunks, Buffer.from(rec.done, 'base64'))
  const progress = new Map<number, number>()
  for (const [k, v] of Object.entries(rec.progress ?? {})) {
    const i = Number(k)
    if (Number.isInteger(i) && i >= 0 && i < chunks && !bitmap.get(i) && Number.isInteger(v) && v > 0) {
      const r = chunkRange(size, i)
      progress.set(i, Math.min(v, r.end - r.start))
    }
  }
  const save = async (): Promise<void> => {
    await db.put(key(digest), { size, chunks, done: Buffer.from(bitmap.bytes).toString('base64'), progress: Object.fromEntries(progress) } satisfies PartialRecord)
  }
  const fh: FileHandle = await open(path, onDisk === size ? 'r+' : 'w+')
  try {
    if (onDisk !== size) await fh.truncate(size)
    await reserve(path, size, digest)
  } catch (e) {
    await fh.close()
    await rm(path, { force: true })
    await db.del(key(digest))
    throw e
  }
  await save()
  let closed = false
  // Written bytes are flushed to the disk as they pile up, in the background, so the fsync that
  // publishing needs finds little left to do instead of the whole blob.
  let unflushed = 0
  let flushing: Promise<void> | undefined
  const direct = createDirectWriter(path)
  const write = async (data: Uint8Array, position: number, o: { uncached?: boolean } = {}): Promise<void> => {
    if (o.uncached === true && !closed && await direct.write(data, position).catch((e: unknown) => { throw diskError(e, digest) })) return
    try {
      await writeFully(fh, data, position)
    } catch (e) {
      throw diskError(e, digest)
    }
    unflushed += data.byteLength
    if (unflushed >= FLUSH_EVERY_BYTES && flushing === undefined && !closed) {
      unflushed = 0
      flushing = fh.datasync().catch(() => {}).finally(() => { flushing = undefined })
    }
  }
  const close = async (): Promise<void> => { if (!closed) { closed = true; await flushing; await direct.close(); await fh.close() } }
  return {
    digest,
    size,
    path,
    bitmap,
    write,
    read: async (buf, position, length) => (await fh.read(buf, 0, length, position)).bytesRead,
    markDone: async (chunk) => {
      bitmap.set(chunk)
      progress.delete(chunk)
      await save()
    },
    chunkProgress: (chunk) => bitmap.get(chunk) ? 0 : progress.get(chunk) ?? 0,
    setChunkProgress: (chunk, bytes) => { if (!bitmap.get(chunk)) progress.set(chunk, bytes) },
    flush: save,
    bytesDone: () => {
      let n = 0
      for (let i = 0; i < chunks; i++) if (bitmap.get(i)) { const r = chunkRange(size, i); n += r.end - r.start }
      for (const v of progress.values()) n += v
      return n
    },
    close,
    discard: async () => {
      await close()
      await rm(path, { force: true })
      await db.del(key(digest))
    }
  }
}
