/** Parallel Range requests per blob, as Ollama uses. */
export const DEFAULT_CONCURRENCY = 16
/** A request that receives no byte for this long is aborted and retried. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000
export const DEFAULT_RETRIES = 6
export const BACKOFF_BASE_MS = 500
export const BACKOFF_MAX_MS = 30_000
/** How often a running download reports its progress. */
export const PROGRESS_INTERVAL_MS = 100
/** A peer whose chunks made a wrong blob is not asked again for this long. */
export const PEER_BAN_MS = 10 * 60_000
/** Chunk bytes a swarm download holds in flight (received, not yet checked and written). */
export const SWARM_INFLIGHT_BYTES = 48 * 1024 * 1024
/** Chunk buffers a node keeps between its downloads' requests: about what one download has in flight. */
export const CHUNK_BUFFERS_KEPT = 16
export const CHUNK_BUFFER_BYTES_KEPT = 64 * 1024 * 1024
