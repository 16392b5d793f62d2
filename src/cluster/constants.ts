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
/**
 * Records of one node go out at most this often on changes (heartbeats aside). While chunks land
 * every few hundred ms on every node, each record costs every other node a verify and a relay:
 * at 8 hosts pulling at once this cut the pull from 31-36 s to 26-29 s (bench:swarm), and a
 * change after a quiet spell still goes out after the 100 ms debounce.
 */
export const MIN_PUBLISH_INTERVAL_MS = 500
/**
 * Up to this many live members the interval above holds; past them it grows with the cluster, so
 * that each node hears about as many records a second however many change at once (every record
 * is heard by every member: at 16 hosts pulling together the records cost more CPU than the bytes).
 */
export const MEMBERS_PER_PUBLISH_INTERVAL = 10

/** How long after a record made by a change the next one may go out, with `members` live. */
export const changeInterval = (members: number): number => MIN_PUBLISH_INTERVAL_MS * Math.max(1, members / MEMBERS_PER_PUBLISH_INTERVAL)
/**
 * A record whose only news is a download's progress (chunks landed or arriving) waits longer in a
 * larger cluster, so each node hears about five such records a second however many pull at once
 * (600 ms at 3 members, 1.8 s at 9, 3.4 s at 17). It counts from the last record of any kind, which
 * showed all progress until then: past 15 members the 3 s heartbeat carries progress (a record of
 * its own 0.4 s after each heartbeat made 16-host pulls slower and less even, docs/benchmarks.md). In
 * bench:swarm this took the daemons' user CPU from 121% to 98-105% of a core at 8 hosts, and
 * the 16-host pull from 42-46 s to 38-45 s; news of each chunk sooner, sent straight to the peers
 * pulling the same blob, made that pull slower and less even (docs/benchmarks.md).
 */
export const MEMBERS_PER_PROGRESS_INTERVAL = 2.5

/** How long after a record made by a change the next one may go out when only progress changed. */
export const progressInterval = (members: number): number => Math.max(changeInterval(members), MIN_PUBLISH_INTERVAL_MS * members / MEMBERS_PER_PROGRESS_INTERVAL)
export const MAX_SYNC_RESPONSE_BYTES = 32 * 1024 * 1024
/** Syncs this node runs at once (each answer may be MAX_SYNC_RESPONSE_BYTES), and how long one waits for a turn. */
export const MAX_CONCURRENT_SYNCS = 4
export const SYNC_WAIT_MS = 60_000
/** Intents: each at most this large, this many per gossip message, this many held in all. */
export const MAX_INTENT_BYTES = 16 * 1024
export const MAX_INTENTS_PER_MESSAGE = 64
export const MAX_INTENTS = 20_000
/** A peer's intents digest must differ this long (to twice this) before a repair sync; the same pair of digests is tried again after the second. */
export const INTENT_SETTLE_MS = 1_000
export const INTENT_RESYNC_MS = 30_000

/** Intents one other writer may have held here at once; this node's own writes are never refused. */
export const MAX_INTENTS_PER_WRITER = 4_000
/** New intents per second one other writer may add, with bursts up to this many (an `apply` of many models). */
export const INTENT_RATE_PER_SEC = 20
export const INTENT_BURST = 2_000
/** Tombstones older than this are collected everywhere: every node has long applied them. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 3600_000
/** A pull job's intent outlives the job's own day of visibility, then is collected. */
export const JOB_INTENT_TTL_MS = 2 * 24 * 3600_000
/** How often expired intents are collected. */
export const INTENT_COLLECT_MS = 60_000
/** Node records held at most: a rack is tens of nodes; identities beyond this are refused. */
export const MAX_MEMBERS = 1024
/** Bytes of other nodes' records held at most, whatever their number: what key holders can make a node keep. */
export const MAX_RECORDS_TOTAL_BYTES = 64 * 1024 * 1024
/** A node gone this long is forgotten: its record goes, as Consul reaps a member after its reconnect timeout. */
export const DEFAULT_FORGET_AFTER_MS = 72 * 3600_000
/** Forgotten nodes remembered (peer id and last version), so an old copy of a record cannot bring one back. */
export const MAX_FORGOTTEN = 4096
