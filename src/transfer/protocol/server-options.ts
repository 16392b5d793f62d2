import type { Clock } from '../../util/clock.js'
import type { Logger } from '../../util/logger.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import type { Digest } from '../../store/index.js'
import type { LocalBlobs } from '../serving/local-blobs.js'
import type { DataPlane } from '../../p2p/index.js'

export interface BlobServerComponents {
  local: LocalBlobs
  clock: Clock
  /** The upload cap shared by every stream this node serves. */
  limiter?: RateLimiter
  log?: Logger
  /** Where chunk bytes go when the asker can take them there (see p2p/data). */
  data?: Pick<DataPlane, 'offer'>
  /** A request is being served, and how it came (the metrics). */
  onRequest?: (via: 'data' | 'stream') => void
  /** How many other nodes hold chunk `index` of `d`, or are receiving it: waiting chunks go out rarest first. */
  holders?: (d: Digest, index: number) => number
}

export interface BlobServerInit {
  /** Streams served at once, over all peers; more are answered BUSY. @default 32 */
  maxConcurrent?: number
  /**
   * Chunk requests served or waiting for an upload slot at once; more are answered BUSY. Below
   * `maxConcurrent`, so bitmaps, manifests and chunk maps (small and quick) still find room while
   * a crowd's chunk requests queue: 16 downloaders that each asked for 4 chunks took every one,
   * and a late one's manifest request was refused. @default maxConcurrent - 8, at least 1
   */
  maxChunkRequests?: number
  /** Time a peer has to send its request. @default 10000 */
  requestTimeoutMs?: number
  /** Longest wait for a slow reader to take more bytes before the stream is dropped. @default 30000 */
  stallTimeoutMs?: number
  /**
   * Chunks sent at once; later requests wait their turn, the chunk fewest other nodes have first.
   * Few at full speed rather than many slowly: a chunk is relayed on no faster than it arrives,
   * so with many downloaders the sooner each one lands the sooner others can take it at full
   * speed from there (and a downloader races a queued request on any holder that gets the chunk
   * meanwhile). Two, so one slow reader cannot hold the uplink alone. @default 2
   */
  uploadSlots?: number
  /** Longest wait for an upload slot before the request is answered BUSY (below the clients' 30 s stall time). @default 25000 */
  slotWaitMs?: number
  /**
   * A request waiting for an upload slot counts one holder fewer for each this long it has
   * waited: rarest first, yet no request is passed over for ever by rarer ones that keep coming
   * (in 8-host pulls some waited 7-15 s and were the last chunks of the pull). @default 1000
   */
  queueAgeMs?: number
}

export const DEFAULT_MAX_CONCURRENT = 32
/** Room under `maxConcurrent` kept for requests other than chunks. */
export const NON_CHUNK_ROOM = 8
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
export const DEFAULT_SERVE_STALL_MS = 30_000
export const DEFAULT_UPLOAD_SLOTS = 2
export const DEFAULT_SLOT_WAIT_MS = 25_000
export const DEFAULT_QUEUE_AGE_MS = 1_000
