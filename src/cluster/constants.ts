/** A node record larger than this is refused (a few thousand models and partial bitmaps fit). */
export const MAX_RECORD_BYTES = 512 * 1024
export const MAX_RECORDS_PER_MESSAGE = 64
export const GOSSIP_TOPIC = 'ollamad/cluster/1.0.0'
export const SYNC_PROTOCOL = '/ollamad/sync/1.0.0'
/** Heartbeat and liveness defaults; flags shorten them for tests. */
export const DEFAULT_HEARTBEAT_MS = 3_000
export const DEFAULT_SUSPECT_AFTER_MS = 10_000
export const DEFAULT_GONE_AFTER_MS = 30_000
/** Local changes are batched this long before a new record goes out. */
export const PUBLISH_DEBOUNCE_MS = 100
export const MAX_SYNC_RESPONSE_BYTES = 32 * 1024 * 1024
/** Intents: each at most this large, this many per gossip message, this many held in all. */
export const MAX_INTENT_BYTES = 16 * 1024
export const MAX_INTENTS_PER_MESSAGE = 64
export const MAX_INTENTS = 20_000
/** A peer's intents digest must differ this long (to twice this) before a repair sync; the same pair of digests is tried again after the second. */
export const INTENT_SETTLE_MS = 1_000
export const INTENT_RESYNC_MS = 30_000
