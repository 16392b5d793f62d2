import { OllamadError, errorMessage, isOllamadError } from '../../errors.js'
import { chunkFitsChainAsync, chunkHashAsync, chunkRange, type PartialBlob } from '../../store/index.js'
import type { Clock } from '../../util/clock.js'
import type { BufferPool } from '../../util/buffers.js'
import type { MapWatch } from './map-watch.js'
import type { PeerTable } from './peer-table.js'
import { REGISTRY } from './picker.js'
import type { RegistryBackoff } from './registry-backoff.js'
import type { Request, RequestBook } from './requests.js'
import { chunkVerdict, sameHash } from './verdict.js'
import type { SwarmDownloadComponents, SwarmDownloadInit, SwarmResult } from './options.js'

export interface ChunkFetcherComponents extends Pick<SwarmDownloadComponents, 'sources' | 'limiter' | 'arrivals' | 'log'> {
  clock: Clock
  book: RequestBook
  table: PeerTable
  map: MapWatch
  buffers: BufferPool
  upstream: RegistryBackoff
  /** The download's own signal: a request follows it. */
  signal: AbortSignal
  /** Something changed that the loop should look at. */
  wake: () => void
  /** Ends the download with this failure. */
  stop: (e: unknown) => void
}

export interface ChunkFetcherInit extends Pick<SwarmDownloadInit, 'onChunk' | 'onBytes' | 'onReject'> {
  partial: PartialBlob
  /** A peer request that gets no bytes for this long is dropped. */
  timeoutMs: number
  /** Nothing reads the chunks back to hash the blob (the download began with a chain): they may skip the page cache. */
  uncached: boolean
}

/** Requests of one download, from start to landing: fetch, check, write, and what each outcome does to its source. */
export interface ChunkFetcher {
  start: (chunk: number, source: string, orphan: boolean, endgame: boolean) => void
  /** The chunk is written, or being written. */
  done: (chunk: number) => boolean
  /** Chunks checked and being written (their buffers still held). */
  writing: () => number
  /** When the last chunk landed. */
  lastProgress: () => number
  result: () => Omit<SwarmResult, 'banned'>
  /** Waits until every request has settled (no write lands after it). */
  settled: () => Promise<void>
}

export function createChunkFetcher (c: ChunkFetcherComponents, init: ChunkFetcherInit): ChunkFetcher {
  const { clock, sources, book, table, map, buffers, upstream } = c
  const { partial } = init
  const result: Omit<SwarmResult, 'banned'> = { unverified: new Map(), fromPeers: 0, fromRegistry: 0 }
  const pending = new Set<Promise<void>>()
  const landing = new Set<number>()
  let lastProgress = clock.now()
  const done = (i: number): boolean => partial.bitmap.get(i) || landing.has(i)

  /**
   * Checks a chunk that came whole (one sha256 pass on libuv's thread pool, not the event loop)
   * and, when it is good, settles its source at once and returns its write: the request's slot at
   * its peer is free while the disk takes the bytes, so a slow write does not leave the link idle
   * (the picker counts writes against the download's budget).
   */
  const land = async (r: Request, data: Uint8Array): Promise<{ write: Promise<void> } | undefined> => {
    // Another request brought it (or is writing it): only relays of this one care about its bytes.
    if (done(r.chunk) && r.arrival === undefined) return undefined
    const st = table.peers.get(r.source)
    const chain = map.chain()
    const announced = st?.view.announced?.get(r.chunk)
    // Against the map's chain when there is one, else the chunk's own hash (a registry chunk's is
    // what this node announces while no map exists; with one, peers find it).
    const { fitsMap, hash } = chain !== undefined
      ? { fitsMap: await chunkFitsChainAsync(chain, partial.size, r.chunk, data), hash: undefined }
      : { fitsMap: undefined, hash: await chunkHashAsync(data) }
    // The download stopped while the chunk was checked: nothing more may land in the partial.
    if (c.signal.aborted) return undefined
    if (done(r.chunk)) {
      // It landed elsewhere first (perhaps while this one was checked): relays of this one may end on its own bytes.
      if (fitsMap ?? (announced !== undefined && hash !== undefined && sameHash(hash, announced))) r.arrival?.land()
      return undefined
    }
    const verdict = chunkVerdict({ fromPeer: st !== undefined, fitsMap, hash, announced })
    if (verdict.kind !== 'accept') init.onReject?.(st !== undefined ? 'peer' : 'registry')
    if (verdict.kind === 'ban' && st !== undefined) {
      table.ban(st, `chunk ${r.chunk} of ${partial.digest} does not fit the chunk map or the hash it announced`)
      return undefined
    }
    if (verdict.kind === 'fatal') throw new OllamadError('CHUNK_MAP_INVALID', `the registry's chunk ${r.chunk} of ${partial.digest} does not match the chunk map`)
    if (verdict.kind !== 'accept') return undefined
    landing.add(r.chunk)
    if (st !== undefined) {
      if (r.relayed) c.log?.debug(`chunk ${r.chunk} of ${partial.digest} came from ${st.id} as it arrived there`)
      st.succeed()
      st.sample(data.byteLength, clock.now() - r.started)
      result.fromPeers++
      if (verdict.checked === 'announced') result.unverified.set(r.chunk, st.id)
    } else {
      upstream.succeeded()
      result.fromRegistry++
    }
    book.landed(r, data)
    const write = (async () => {
      try {
        await partial.write(data, chunkRange(partial.size, r.chunk).start, { uncached: init.uncached })
        await partial.markDone(r.chunk)
        r.arrival?.land()
      } finally {
        landing.delete(r.chunk)
      }
      lastProgress = clock.now()
      init.onChunk?.(r.chunk, { source: r.source, hash, checked: verdict.checked, data })
    })()
    return { write }
  }

  const failed = (r: Request, e: unknown): void => {
    // A full disk is this node's problem, not the source's: the download stops, no one is banned.
    if (isOllamadError(e, 'NO_ROOM')) { c.stop(e); return }
    if (c.signal.aborted || done(r.chunk) || (r.ac.signal.aborted && !isOllamadError(r.ac.signal.reason, 'STALLED'))) return
    if (r.source === REGISTRY) {
      if (upstream.failed(r.orphan, clock.now())) c.stop(e)
      return
    }
    const st = table.peers.get(r.source)
    if (st !== undefined) table.failed(st, r.chunk, r.relayed, e)
  }

  /** The first request of a chunk to be served wins; from then on its bytes show as arriving, for relays. */
  const served = (r: Request, buffer: Uint8Array): void => {
    if (r.ac.signal.aborted) return // it lost the race as its answer came
    if (book.served(r, clock.now())) {
      const { start, end } = chunkRange(partial.size, r.chunk)
      r.arrival = c.arrivals?.begin(partial.digest, r.chunk, buffer, end - start)
    }
    c.wake()
  }

  const start = (chunk: number, source: string, orphan: boolean, endgame: boolean): void => {
    const st = table.peers.get(source)
    const r = book.open(chunk, source, clock.now(), { orphan, endgame, relayed: st !== undefined && !st.heldWhole(chunk) })
    if (st !== undefined) st.inflight++
    const { start: from, end } = chunkRange(partial.size, chunk)
    // Taken when the peer begins to serve: a request queued at a busy peer holds no chunk buffer.
    let buffer: Uint8Array | undefined
    const take = (): Uint8Array => (buffer ??= buffers.take(end - from))
    const fetch = st === undefined
      ? (sources.registryFetch as NonNullable<typeof sources.registryFetch>)(chunk, r.ac.signal).then(data => {
          if (data.byteLength !== end - from) throw new OllamadError('REGISTRY_ERROR', `registry sent ${data.byteLength} bytes for chunk ${chunk}`)
          return data
        })
      : sources.client.chunk(source, partial.digest, chunk, end - from, {
        signal: r.ac.signal,
        // The client stops its stall clock while our own rate cap holds the stream.
        limiter: c.limiter,
        onBytes: (n) => { r.got += n; r.arrival?.progress(r.got); init.onBytes?.(n) },
        stallMs: init.timeoutMs,
        into: take,
        onStart: () => { served(r, take()) }
      })
    let writing: Promise<void> | undefined
    /** Once nothing reads the buffer: not its relays, and not the write. */
    const free = (): void => {
      const used = buffer
      if (used === undefined) return
      if (r.arrival !== undefined) r.arrival.release(() => { buffers.give(used) })
      else buffers.give(used)
    }
    const settled = fetch.then(async data => { writing = (await land(r, data))?.write }, e => {
      const why = r.ac.signal.aborted ? r.ac.signal.reason : e
      // Bytes that crossed the network for nothing: what duplicates and dropped requests cost.
      if (r.got > 0) c.log?.debug(`chunk ${r.chunk} from ${r.source} dropped after ${r.got} bytes${r.endgame ? ' (endgame)' : ''}: ${errorMessage(why)}`)
      failed(r, why)
    })
      .catch(c.stop)
      .finally(() => {
        book.close(r)
        pending.delete(settled)
        if (st !== undefined) st.inflight--
        if (writing === undefined) free()
        else {
          // A failed write is this node's disk, not the source's: the download stops with it.
          const written: Promise<void> = writing.catch(c.stop).finally(() => { free(); pending.delete(written); c.wake() })
          pending.add(written)
        }
        c.wake()
      })
    pending.add(settled)
  }

  return {
    start,
    done,
    writing: () => landing.size,
    lastProgress: () => lastProgress,
    result: () => result,
    // A request that settles adds its write: wait until nothing is left.
    settled: async () => { while (pending.size > 0) await Promise.allSettled([...pending]) }
  }
}
