/** Time allowed for a registry to send response headers. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const MAX_REDIRECTS = 5
/** Error bodies are read only for their message. */
export const MAX_ERROR_BODY = 64 * 1024
/** Parallel Range requests per blob, as Ollama uses. */
export const DEFAULT_CONCURRENCY = 16
/** A request that receives no byte for this long is aborted and retried. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000
export const DEFAULT_RETRIES = 6
export const BACKOFF_BASE_MS = 500
export const BACKOFF_MAX_MS = 30_000
