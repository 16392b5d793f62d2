/**
 * Pull progress, in the shape of Ollama's NDJSON lines. The HTTP stream, the CLI bars and job
 * records all consume these events rather than counting on their own.
 */
export interface PullProgress {
  status: string
  digest?: string
  total?: number
  completed?: number
}

export type ProgressListener = (p: PullProgress) => void

/** Ollama names a layer in progress by the first 12 hex digits of its digest. */
export const layerStatus = (digest: string): string => `pulling ${digest.slice(7, 19)}`
