/** How often the catalog rereads manifests/ even when no watch event came. */
export const DEFAULT_RESCAN_INTERVAL_MS = 30_000
/** Config, template and parameter blobs are small; larger ones are refused when read whole. */
export const MAX_SMALL_BLOB_BYTES = 16 * 1024 * 1024
