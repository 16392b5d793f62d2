/** Time allowed for a registry to send response headers. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const MAX_REDIRECTS = 5
/** Error bodies are read only for their message. */
export const MAX_ERROR_BODY = 64 * 1024
