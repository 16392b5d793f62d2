import { OllamadError, isOllamadError } from '../../errors.js'
import { sleep, type Clock } from '../../util/clock.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import { readBodyInto, type RegistryClient } from '../../registry/index.js'
import { chunkRange, type ModelName, type PartialBlob } from '../../store/index.js'
import { createBufferPool } from '../../util/buffers.js'
import { linkedController } from '../../util/abort.js'
import { startRamp } from './ramp.js'

/** How often the offsets inside unfinished chunks are saved, so a crash loses little. */
const PROGRESS_FLUSH_MS = 250
/**
 * Socket reads are 64 KiB; copying them into one buffer per write saves a thread-pool trip per
 * read, and lets each read's buffer die young (holding them for a write makes the GC work).
 */
const WRITE_BATCH = 256 * 1024
/**
 * The most one Range request asks for. A request costs a registry (and a CDN redirect) far more
 * than 4 MiB of bytes do, so runs of missing chunks go in one request; runs shrink toward the end
 * so the last requests finish together and the in-order hasher is not left a long tail.
 */
const RUN_MAX = 32 * 1024 * 1024
/** Parallel requests at the start, how often the ramp judges adding more, and a request too fast to need company (bytes/s). */
const RAMP_START = 4
const RAMP_MS = 1000
const FAST_REQUEST = 32 * 1024 * 1024

/** How hard a download tries: parallel requests, stall detection, retries and backoff. */
export interface FetchTuning {
  concurrency: number
  stallTimeoutMs: number
  retries: number
  backoffBaseMs: number
  backoffMaxMs: number
}

export interface RegistryFetchInit extends FetchTuning {
  registry: RegistryClient
  clock: Clock
  limiter: RateLimiter
  name: ModelName
  partial: PartialBlob
  insecure?: boolean
  signal?: AbortSignal
  /** Called as bytes land (the partial's bytesDone has the count). */
  onBytes: () => void
  onChunk: (index: number) => void
}

/** Errors that no retry can fix. */
const fatal = (e: unknown): boolean =>
  isOllamadError(e) && ['ABORTED', 'BLOB_NOT_FOUND', 'REGISTRY_AUTH', 'REGISTRY_DENIED', 'SIZE_LIMIT', 'NO_ROOM'].includes(e.code)

/**
 * Fills the partial's missing chunks from the registry with parallel Range requests, each for a
 * run of consecutive missing chunks, taken in order so the hasher's frontier keeps moving.
 */
export async function fetchFromRegistry (init: RegistryFetchInit): Promise<void> {
  const { partial, clock } = init
  const queue = partial.bitmap.missing()
  if (queue.length === 0) return
  // An empty blob is one empty chunk: nothing to fetch, and `bytes=0--1` is no valid Range.
  if (partial.size === 0) { await partial.markDone(0); init.onChunk(0); return }
  // Linked so that a pull cancelled before this point (its abort fired already) starts no request.
  const { ac, release } = linkedController(init.signal)
  let mode = 'ranges' as 'ranges' | 'whole'
  let firstError: unknown
  let lastFlush = clock.now()

  const chunkBytes = chunkRange(partial.size, 0).end
  const fetchRun = async (first: number, last: number): Promise<void> => {
    const whole = mode === 'whole'
    // Resume inside the first chunk from where an earlier request (or run) stopped.
    const start = whole ? 0 : chunkRange(partial.size, first).start + partial.chunkProgress(first)
    const end = whole ? partial.size : chunkRange(partial.size, last).end
    const res = await init.registry.openBlob(init.name, partial.digest, whole ? undefined : { start, end }, { insecure: init.insecure, signal: ac.signal })
    if (res.statusCode === 200 && !whole && !(start === 0 && end === partial.size)) {
      // A 200 to a Range request is the whole blob: this registry cannot serve ranges.
      res.destroy()
      mode = 'whole'
      throw new OllamadError('REGISTRY_ERROR', 'registry ignores Range requests')
    }
    const contentRange = res.headers['content-range']
    if (res.statusCode === 206 && contentRange !== undefined) {
      const m = /^bytes (\d+)-(\d+)\//.exec(contentRange)
      if (m === null || Number(m[1]) !== start || Number(m[2]) !== end - 1) {
        res.destroy()
        throw new OllamadError('REGISTRY_ERROR', `registry answered range ${contentRange} for bytes ${start}-${end - 1}`)
      }
    }
    const length = Number(res.headers['content-length'])
    if (Number.isFinite(length) && length !== end - start) {
      res.destroy()
      throw new OllamadError('REGISTRY_ERROR', `registry sent ${length} bytes for a range of ${end - start}`)
    }
    let pos = start
    let nextChunk = whole ? 0 : first
    /** Writes one full batch at `pos`, then marks the chunks it completes. */
    const writeOut = async (data: Uint8Array): Promise<void> => {
      await partial.write(data, pos)
      pos += data.byteLength
      while (nextChunk < partial.bitmap.length && chunkRange(partial.size, nextChunk).end <= pos) {
        if (!partial.bitmap.get(nextChunk)) { await partial.markDone(nextChunk); init.onChunk(nextChunk) }
        nextChunk++
      }
      if (nextChunk < partial.bitmap.length && !partial.bitmap.get(nextChunk)) {
        partial.setChunkProgress(nextChunk, pos - chunkRange(partial.size, nextChunk).start)
        if (clock.now() - lastFlush >= PROGRESS_FLUSH_MS) { lastFlush = clock.now(); await partial.flush() }
      }
      init.onBytes()
    }
    // Two batches: the body lands in one while the other is written.
    let batch = buffers.take(WRITE_BATCH)
    let spare = buffers.take(WRITE_BATCH)
    let batched = 0
    let received = start
    let writing: Promise<void> | undefined
    /** Starts writing the batch once the write in flight is done, and fills the other one meanwhile. */
    const flip = async (): Promise<void> => {
      if (writing !== undefined) await writing
      const w: Promise<void> = writeOut(batch.subarray(0, batched)).then(() => { if (writing === w) writing = undefined })
      // Seen when awaited later; until then a failed write must not count as unhandled.
      w.catch(() => {})
      writing = w;
      [batch, spare] = [spare, batch]
      batched = 0
    }
    try {
      await readBodyInto(res, clock, init.stallTimeoutMs, {
        space: () => batch.subarray(batched, Math.min(WRITE_BATCH, batched + end - received)),
        filled: (n) => {
          batched += n
          received += n
          const owed = init.limiter.reserve(n)
          const full = batched === WRITE_BATCH
          // The common case costs no promise: room left, or the other batch already written.
          if (owed === 0 && (!full || writing === undefined)) {
            if (full) void flip()
            return undefined
          }
          return (async () => {
            if (full) await flip()
            if (owed > 0) await sleep(clock, owed, ac.signal)
          })()
        }
      })
      if (batched > 0) await flip()
      if (writing !== undefined) await writing
    } finally {
      await writing?.catch(() => {})
      buffers.give(batch)
      buffers.give(spare)
    }
    if (pos !== end) throw new OllamadError('REGISTRY_ERROR', `registry closed the body after ${pos - start} of ${end - start} bytes`)
  }

  const worker = async (as: typeof mode): Promise<void> => {
    let failures = 0
    for (;;) {
      if (ac.signal.aborted || mode !== as) return
      const first = queue.shift()
      if (first === undefined) return
      if (partial.bitmap.get(first)) continue
      // Sized for the most requests until the ramp settles: runs claimed early cannot be shared by requests added later.
      const sharers = ramp.settled() ? ramp.count() : maxWorkers
      const target = Math.min(RUN_MAX, Math.max(chunkBytes, (queue.length + 1) * chunkBytes / (2 * sharers)))
      let last = first
      while (queue[0] === last + 1 && (last - first + 2) * chunkBytes <= target) last = queue.shift() as number
      try {
        await fetchRun(first, last)
        failures = 0
      } catch (e) {
        if (ac.signal.aborted) return
        if (fatal(e) || failures >= init.retries) {
          firstError ??= e
          ac.abort(e)
          return
        }
        failures++
        for (let i = last; i >= first; i--) if (!partial.bitmap.get(i)) queue.unshift(i)
        const backoff = Math.min(init.backoffMaxMs, init.backoffBaseMs * 2 ** (failures - 1))
        try { await sleep(clock, backoff * (0.5 + Math.random() / 2), ac.signal) } catch { return }
      }
    }
  }

  const maxWorkers = Math.max(1, Math.min(init.concurrency, queue.length))
  const buffers = createBufferPool(WRITE_BATCH, 2 * maxWorkers)
  const running = new Set<Promise<void>>()
  const spawn = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const w: Promise<void> = worker('ranges').finally(() => { running.delete(w) })
      running.add(w)
    }
  }
  const ramp = startRamp(clock, { initial: RAMP_START, max: maxWorkers, intervalMs: RAMP_MS, fastPerRequest: FAST_REQUEST }, partial.bytesDone, spawn)
  try {
    spawn(ramp.count())
    while (running.size > 0) await Promise.all(running)
    ramp.stop()
    // A registry that ignores Range requests is read once more as one whole body.
    if ((mode as string) === 'whole' && firstError === undefined && !partial.bitmap.full()) {
      queue.splice(0, queue.length, ...partial.bitmap.missing())
      await worker('whole')
    }
  } finally {
    ramp.stop()
    release()
    await partial.flush().catch(() => {})
  }
  if (init.signal?.aborted === true) throw new OllamadError('ABORTED', 'pull aborted')
  if (firstError !== undefined) throw firstError
  if (!partial.bitmap.full()) throw new OllamadError('REGISTRY_ERROR', `blob ${partial.digest} is incomplete`)
}

/** One chunk from the registry into memory: the swarm downloader's source for chunks no peer has. */
export async function fetchChunkFromRegistry (
  c: { registry: RegistryClient, limiter: RateLimiter, clock: Clock, stallTimeoutMs: number },
  name: ModelName, digest: PartialBlob['digest'], size: number, index: number, insecure: boolean | undefined, signal: AbortSignal
): Promise<Uint8Array> {
  const { start, end } = chunkRange(size, index)
  const res = await c.registry.openBlob(name, digest, { start, end }, { insecure, signal })
  const out = Buffer.allocUnsafe(end - start)
  let pos = 0
  // A 200 is the whole blob from byte 0: skip to the chunk.
  let skip = res.statusCode === 200 ? start : 0
  let scratch: Buffer | undefined
  await readBodyInto(res, c.clock, c.stallTimeoutMs, {
    space: () => {
      if (skip === 0) return out.subarray(pos)
      scratch ??= Buffer.allocUnsafe(64 * 1024)
      return scratch.subarray(0, Math.min(skip, scratch.byteLength))
    },
    filled: (n) => {
      if (skip > 0) { skip -= n; return undefined }
      pos += n
      const owed = c.limiter.reserve(n)
      return owed > 0 ? sleep(c.clock, owed, signal) : undefined
    }
  })
  if (pos !== out.byteLength) throw new OllamadError('REGISTRY_ERROR', `registry sent ${pos} of ${out.byteLength} bytes of chunk ${index}`)
  return out
}
