import { OllamadError } from '../../errors.js'
import { linkedController } from '../../util/abort.js'
import type { ArrivalHandle } from '../serving/arrivals.js'
import { REGISTRY, type InflightRequest } from './picker.js'

/** A peer request with no answer for this long waits in the peer's queue (an idle peer answers in a round trip). */
export const QUEUED_AFTER_MS = 500

/** A chunk request in flight, to a peer or to the registry. */
export interface Request extends InflightRequest {
  ac: AbortController
  /** A registry request for a chunk no peer holds: its failures count toward giving up. */
  orphan: boolean
  /** An endgame duplicate: it may run alongside another request that is already being served. */
  endgame: boolean
  /** When its peer began to serve it; unset while it waits for an upload slot there. */
  servedAt?: number
  /** Its bytes as they arrive, for relays (from when its peer began to serve it). */
  arrival?: ArrivalHandle
  /** Bytes received so far. */
  got: number
  /** Asked of a peer that had the chunk only arriving (a relay): a cut is no fault of that peer. */
  relayed: boolean
}

/**
 * The book of a download's requests in flight: which are served, which wait in a peer's queue
 * (and may be raced elsewhere), and which are withdrawn because another request of the same
 * chunk was served or landed first.
 */
export interface RequestBook {
  readonly size: number
  all: () => Request[]
  /** Books a request; it follows the download's signal until it is closed. */
  open: (chunk: number, source: string, started: number, o: Pick<Request, 'orphan' | 'endgame' | 'relayed'>) => Request
  close: (r: Request) => void
  /**
   * Its peer began to serve `r`: queued requests of the chunk are withdrawn, or `r` itself when
   * another is served already and `r` is no endgame duplicate. False when `r` lost.
   */
  served: (r: Request, now: number) => boolean
  /** `r`'s chunk landed: the other requests of the chunk end, their relays going on from `data` (checked). */
  landed: (r: Request, data: Uint8Array) => void
  /** Withdraws requests, with the reason. */
  drop: (rs: Iterable<Request>, why: string) => void
  /** Withdraws every request to a peer. */
  dropFrom: (source: string, why: string) => void
  /** Chunks some peer is sending us now. */
  receiving: () => Set<number>
  /** A peer request its peer has not begun to serve (it may be raced once it waited a while). */
  waitsAtPeer: (r: Request) => boolean
  /** What the picker needs to know of the requests in flight. */
  forPicker: (now: number) => InflightRequest[]
  /** When requests waiting at their peers may be raced elsewhere. */
  raceTimes: (now: number) => number[]
}

export function createRequestBook (signal: AbortSignal, init: { race: boolean }): RequestBook {
  const open = new Map<Request, () => void>()
  const aborted = (why: string): OllamadError => new OllamadError('ABORTED', why)
  const sameChunk = function * (r: Request): Generator<Request> {
    for (const other of open.keys()) if (other !== r && other.chunk === r.chunk) yield other
  }
  const waitsAtPeer = (r: Request): boolean => init.race && r.source !== REGISTRY && r.servedAt === undefined
  const book: RequestBook = {
    get size () { return open.size },
    all: () => [...open.keys()],
    open: (chunk, source, started, o) => {
      const { ac, release } = linkedController(signal)
      const r: Request = { chunk, source, started, ac, got: 0, ...o }
      open.set(r, release)
      return r
    },
    close: (r) => { open.get(r)?.(); open.delete(r) },
    served: (r, now) => {
      if (r.ac.signal.aborted) return false // it lost the race as its answer came
      r.servedAt = now
      for (const other of sameChunk(r)) {
        if (other.servedAt === undefined) other.ac.abort(aborted('served by another peer'))
        else if (!r.endgame) r.ac.abort(aborted('already coming from another peer'))
      }
      return !r.ac.signal.aborted
    },
    landed: (r, data) => {
      for (const other of sameChunk(r)) {
        other.arrival?.landWith(data)
        other.ac.abort(aborted('chunk done elsewhere'))
      }
    },
    drop: (rs, why) => { for (const r of rs) r.ac.abort(aborted(why)) },
    dropFrom: (source, why) => { book.drop(book.all().filter(r => r.source === source), why) },
    receiving: () => new Set(book.all().filter(r => r.servedAt !== undefined).map(r => r.chunk)),
    waitsAtPeer,
    forPicker: (now) => book.all().map(r => ({ chunk: r.chunk, source: r.source, started: r.started, queued: waitsAtPeer(r) && now - r.started >= QUEUED_AFTER_MS })),
    raceTimes: (now) => book.all().filter(r => waitsAtPeer(r) && r.started + QUEUED_AFTER_MS > now).map(r => r.started + QUEUED_AFTER_MS)
  }
  return book
}
