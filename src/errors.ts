/** Error codes thrown deep in the code and mapped once at the edge (HTTP status or CLI exit). */
export type ErrorCode =
  | 'INVALID_NAME'
  | 'INVALID_DIGEST'
  | 'INVALID_REQUEST'
  | 'BODY_TOO_LARGE'
  | 'MODEL_NOT_FOUND'
  | 'BLOB_NOT_FOUND'
  | 'DIGEST_MISMATCH'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_AUTH'
  | 'REGISTRY_DENIED'
  | 'MANIFEST_INVALID'
  | 'SIZE_LIMIT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_IS_SELF'
  | 'STALLED'
  | 'CHUNK_MAP_INVALID'
  | 'PEER_BUSY'
  | 'PEER_PROTOCOL'
  | 'PEER_UNAVAILABLE'
  | 'DATA_UNREACHABLE'
  | 'ABORTED'
  | 'CONFLICT'
  | 'CLOCK_DRIFT'
  | 'NODE_NOT_FOUND'
  | 'NO_ROOM'
  | 'JOB_NOT_FOUND'
  | 'QUEUE_FULL'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INTERNAL'

export class OllamadError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'OllamadError'
  }
}

export const isOllamadError = (e: unknown, code?: ErrorCode): e is OllamadError =>
  e instanceof OllamadError && (code === undefined || e.code === code)

export const errorMessage = (e: unknown): string =>
  e instanceof Error ? e.message : String(e)

/** Throws the signal's reason as an ABORTED error when the signal has fired. */
export function throwIfAborted (signal?: AbortSignal): void {
  if (signal?.aborted === true) {
    throw new OllamadError('ABORTED', 'operation aborted', { cause: signal.reason })
  }
}
