/** What a swarm download takes and gives: its collaborators, its options (with defaults) and its result. */
import type { Clock } from '../../util/clock.js'
import type { Logger } from '../../util/logger.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import type { PartialBlob } from '../../store/index.js'
import type { BlobClient } from '../protocol/client.js'
import type { Arrivals } from '../serving/arrivals.js'
import type { PeerView } from './peer-state.js'
import type { Bans } from './bans.js'
import type { BufferPool } from '../../util/buffers.js'

export interface SwarmSources {
  /** The peers that hold chunks; a function is asked again on each round, so new holders join. */
  peers: PeerView[] | (() => PeerView[])
  client: Pick<BlobClient, 'chunk' | 'have'>
  /** Fetches one whole chunk upstream, for chunks no usable peer holds (applies its own rate cap). */
  registryFetch?: (index: number, signal: AbortSignal) => Promise<Uint8Array>
  /** Which chunks this node may take upstream; the others wait for the peer that owns them. @default all */
  registryAllowed?: (index: number) => boolean
  /** Looks for the blob's chunk map once a peer offers one (the download began before any existed). */
  findMap?: (signal: AbortSignal) => Promise<Uint8Array[] | undefined>
}

export interface SwarmDownloadComponents {
  sources: SwarmSources
  /** The download cap, applied to bytes from peers. */
  limiter: RateLimiter
  clock: Clock
  /** Peers banned for bad chunks; pass the node's table to keep bans across blobs. @default a table of this download's own */
  bans?: Bans
  /** Where chunks coming from peers are shown while they arrive, so this node can relay them at once. */
  arrivals?: Arrivals
  /** Chunk buffers, shared by the node's downloads so each one does not allocate its own. @default a pool of this download's own */
  buffers?: BufferPool
  log?: Logger
}

export interface SwarmDownloadInit {
  partial: PartialBlob
  /** The sha256 chain from the blob's chunk map; without it, chunks are checked against what their peer announced. */
  verify?: { chain?: Uint8Array[] }
  signal?: AbortSignal
  /** A chunk is written and marked done (the in-order hasher may advance). */
  onChunk?: (index: number, from: ChunkSource) => void
  /** Bytes arrived from a peer (for progress). */
  onBytes?: (bytes: number) => void
  /** A chunk failed its check (the metrics). */
  onReject?: (source: 'registry' | 'peer') => void
  /** Tie-break seed, e.g. seedOf(our peer id), so downloaders spread over equally rare chunks. @default random */
  seed?: number
  /** This node's peer id: with the other downloaders of the blob (peers that hold part of it) it fixes this node's share. */
  selfId?: string
  /** @default 4 */
  inflightPerPeer?: number
  /** @default 4 */
  registryConcurrency?: number
  /** Chunk bytes held in memory by requests in flight, over all sources. @default 128 MiB */
  maxInflightBytes?: number
  /** A peer request that gets no bytes for this long is dropped and its peer rested. @default 30000 */
  timeoutMs?: number
  /** How long a peer that sent a bad chunk is shunned. @default 300000 */
  banMs?: number
  /** How often partial holders are asked for fresh bitmaps while some chunk has no source. @default 2000 */
  refreshMs?: number
  /** Gives up when no chunk could be fetched for this long. @default 120000 */
  stuckTimeoutMs?: number
  /** Consecutive registry failures tolerated. @default 3 */
  registryRetries?: number
  /** Duplicate the slowest requests on idle peers at the end. @default true */
  endgame?: boolean
  /** Ask a second holder for a chunk whose request waits in its peer's upload queue (see PickerInput.raceQueued). @default true */
  raceQueued?: boolean
}

export const DEFAULT_INFLIGHT_PER_PEER = 4
export const DEFAULT_REGISTRY_CONCURRENCY = 4
export const DEFAULT_INFLIGHT_BYTES = 128 * 1024 * 1024
export const DEFAULT_PEER_TIMEOUT_MS = 30_000
export const DEFAULT_BAN_MS = 300_000
export const DEFAULT_REFRESH_MS = 2_000
export const DEFAULT_STUCK_TIMEOUT_MS = 120_000
export const DEFAULT_REGISTRY_RETRIES = 3

/** The tuning of one download, every default filled in. */
export type SwarmTuning = Required<Pick<SwarmDownloadInit, 'inflightPerPeer' | 'registryConcurrency' | 'maxInflightBytes' | 'timeoutMs' | 'banMs' | 'refreshMs' | 'stuckTimeoutMs' | 'registryRetries' | 'endgame' | 'raceQueued' | 'seed'>>

export function swarmTuning (o: SwarmDownloadInit): SwarmTuning {
  return {
    inflightPerPeer: o.inflightPerPeer ?? DEFAULT_INFLIGHT_PER_PEER,
    registryConcurrency: o.registryConcurrency ?? DEFAULT_REGISTRY_CONCURRENCY,
    maxInflightBytes: o.maxInflightBytes ?? DEFAULT_INFLIGHT_BYTES,
    timeoutMs: o.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS,
    banMs: o.banMs ?? DEFAULT_BAN_MS,
    refreshMs: Math.max(100, o.refreshMs ?? DEFAULT_REFRESH_MS),
    stuckTimeoutMs: o.stuckTimeoutMs ?? DEFAULT_STUCK_TIMEOUT_MS,
    registryRetries: o.registryRetries ?? DEFAULT_REGISTRY_RETRIES,
    endgame: o.endgame ?? true,
    raceQueued: o.raceQueued ?? true,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32)
  }
}

export interface ChunkSource {
  /** A peer id, or REGISTRY. */
  source: string
  /** The chunk's own sha256, computed only where no chunk map was there to check it against (a registry chunk's is what the node announces). */
  hash?: Uint8Array
  /** What it was checked against. */
  checked: 'map' | 'announced' | 'none'
  /** The chunk's bytes as written, valid only during the call (its buffer is reused after). */
  data?: Uint8Array
}

export interface SwarmResult {
  /**
   * Chunks taken from a peer against that peer's announced hash (no map), by index → peer: if the
   * whole-blob sha256 fails, these are fetched again from the registry.
   */
  unverified: Map<number, string>
  fromPeers: number
  fromRegistry: number
  /** Peers banned during this download for sending bad chunks. */
  banned: string[]
}
