export { DEFAULT_CONCURRENCY, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_RETRIES, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../registry/constants.js'
/** How often a running download reports its progress. */
export const PROGRESS_INTERVAL_MS = 100
/** A peer whose chunks made a wrong blob is not asked again for this long. */
export const PEER_BAN_MS = 10 * 60_000
/** Chunk bytes a swarm download holds in flight (received, not yet checked and written). */
export const SWARM_INFLIGHT_BYTES = 48 * 1024 * 1024
