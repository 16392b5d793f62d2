/** How often the catalog rereads manifests/ even when no watch event came. */
export const DEFAULT_RESCAN_INTERVAL_MS = 30_000
/** Config, template and parameter blobs are small; larger ones are refused when read whole. */
export const MAX_SMALL_BLOB_BYTES = 16 * 1024 * 1024
/** Bounds on what a GGUF header may hold: any file past them is refused, so a hostile upload costs little. */
export const GGUF_MAX_KV = 65_536
export const GGUF_MAX_TENSORS = 1_000_000
export const GGUF_MAX_STRING_BYTES = 16 * 1024 * 1024
export const GGUF_MAX_ARRAY_LENGTH = 10_000_000
export const GGUF_MAX_DIMS = 8
export const GGUF_MAX_HEADER_BYTES = 512 * 1024 * 1024
export const GGUF_DEFAULT_MAX_ARRAY_KEEP = 1024
