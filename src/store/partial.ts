import { constants } from 'node:fs'
import { open, mkdir, rm, stat, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Bitmap } from '../util/bitmap.js'
import { DIRECT_ALIGN, isAligned } from '../util/aligned.js'
import { OllamadError } from '../errors.js'
import { chunkCount, chunkRange } from './chunks.js'
import type { Digest } from './digest.js'
import type { Layout } from './layout.js'
import type { StateDb } from './db.js'

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

/**
 * Writes that skip the page cache, on a second descriptor opened with O_DIRECT at first use. On
 * this kind of VM, copying a 1 GiB download into fresh page-cache pages and flushing them cost
 * 3.8 CPU-s and 4.2-4.7 s; written directly, 0.2 CPU-s and 1.8-2.5 s (docs/design.md). Where the
 * file system refuses O_DIRECT, or a write is not on block boundaries, it says false and the
 * caller writes through the cache. The fsync before publish still covers these bytes.
 */
/** Direct writes queued (the one being written included) past which a write goes through the cache. */
const DIRECT_QUEUE = 2

function directWriter (path: string): { write: (data: Uint8Array, position: number) => Promise<boolean>, close: () => Promise<void> } {
  let fd: Promise<FileHandle | undefined> | undefined
  let refused = false
  let closing = false
  let queued = 0
  // One write at a time: each holds a thread of libuv's pool until the disk has the bytes, and
  // the pool also runs the chunks' sha256 checks. (One at a time wrote as fast as four, measured.)
  let queue: Promise<unknown> = Promise.resolve()
  const fits = (data: Uint8Array, position: number): boolean =>
    !refused && data.byteLength > 0 && data.byteLength % DIRECT_ALIGN === 0 && position % DIRECT_ALIGN === 0 && isAligned(data)
  const writeAll = async (fh: FileHandle, data: Uint8Array, position: number): Promise<boolean> => {
    try {
      for (let off = 0; off < data.byteLength;) {
        const { bytesWritten } = await fh.write(data, off, data.byteLength - off, position + off)
        if (bytesWritten === 0) throw Object.assign(new Error('a direct write made no progress'), { code: 'EIO' })
        off += bytesWritten
      }
      return true
    } catch (e) {
      // EINVAL: this file system wants another alignment; the bytes go through the cache instead.
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e
      refused = true
      return false
    }
  }
  return {
    write: async (data, position) => {
      // A disk that stalls (the slowest writes here take 200-280 ms) would hold every chunk
      // buffer behind it: past a short queue, the page cache takes the bytes instead.
      if (closing || !fits(data, position)) return false
      const fh = await (fd ??= open(path, constants.O_RDWR | constants.O_DIRECT).catch((e: NodeJS.ErrnoException) => {
        // EINVAL: no O_DIRECT on this file system. Anything else (out of descriptors) may pass: try again next time.
        if (e.code === 'EINVAL') refused = true
        else fd = undefined
        return undefined
      }))
      if (fh === undefined || closing || queued >= DIRECT_QUEUE) return false
      queued++
      const done = queue.then(async () => refused ? false : await writeAll(fh, data, position)).finally(() => { queued-- })
      queue = done.catch(() => {})
      return await done
    },
    close: async () => {
      closing = true
      // Writes already queued finish first; later ones are refused (and fail on the closed file).
      for (let q = queue; ; q = queue) { await q; if (q === queue) break }
      await (await fd)?.close()
    }
  }
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
  const direct = directWriter(path)
  const write = async (data: Uint8Array, position: number, o: { uncached?: boolean } = {}): Promise<void> => {
    if (o.uncached === true && !closed && await direct.write(data, position).catch((e: unknown) => { throw diskError(e, digest) })) return
    let off = 0
    try {
      while (off < data.byteLength) {
        const { bytesWritten } = await fh.write(data, off, data.byteLength - off, position + off)
        off += bytesWritten
      }
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
