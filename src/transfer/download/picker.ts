/**
 * The piece picker: a pure function of what we have, what is in flight and what each source
 * holds. Rarest chunk first, so rare chunks spread before their holders go away; a few requests
 * per peer; the registry only for chunks no usable peer holds; endgame duplicates at the end.
 */

/** The source id of the upstream registry; no libp2p peer id can contain '@'. */
export const REGISTRY = '@registry'

export interface PickerPeer {
  id: string
  /** Chunks this peer can serve (and that we can verify from it). */
  has: (chunk: number) => boolean
  /** Requests to this peer in flight now. */
  inflight: number
  banned?: boolean
  /** Holds its chunks but takes no requests for now (after a failure or BUSY): not asked, yet its chunks are no orphans. */
  resting?: boolean
  /** Observed throughput in bytes per ms; unknown peers count as the fastest known. */
  rate?: number
  /** Requests in flight allowed to this peer, when not the input's perPeerLimit. */
  limit?: number
}

export interface InflightRequest {
  chunk: number
  source: string
  /** When it was sent (any monotonic unit); older requests are duplicated first in endgame. */
  started: number
  /** Still waiting at its peer for an upload slot (long enough that it is not just a round trip). */
  queued?: boolean
}

export interface PickerInput {
  chunks: number
  have: (chunk: number) => boolean
  peers: PickerPeer[]
  inflight: InflightRequest[]
  perPeerLimit: number
  /** Requests in flight over all sources, endgame duplicates included (each holds a chunk in memory). */
  maxInflight?: number
  /** The registry as one more source, with its own limit; absent when there is none. `allowed` says which chunks this node may take upstream (one owner per chunk in a cluster pull). */
  registry?: { limit: number, allowed?: (chunk: number) => boolean }
  endgame: boolean
  /** Total requests per chunk during endgame. @default 2 */
  maxDuplicates?: number
  /** Breaks ties between equally rare chunks, so that downloaders with other seeds spread load. */
  seed: number
  /**
   * Lower comes first, before rarity: this node's share when many download one blob at once, so
   * each asks the first holder for different chunks and they trade the rest among themselves.
   */
  share?: (chunk: number) => number
  /** Chunks not to ask for now (another downloader will bring them from the only holder). */
  defer?: (chunk: number) => boolean
  /** Holders not to ask for a chunk, endgame duplicates included (a first holder, for a chunk another downloader can pass on). */
  avoid?: (source: string, chunk: number) => boolean
  /**
   * Ask a second holder for a chunk whose every request still waits in its peer's queue: whichever
   * starts first serves it and the other is withdrawn unsent, so a copy made a moment ago takes
   * over from a crowded holder (a chunk then spreads as a tree, not a star).
   */
  raceQueued?: boolean
}

export interface Assignment {
  source: string
  chunk: number
  /** True for a second request of a chunk already in flight elsewhere (endgame, or a race of queued ones). */
  duplicate: boolean
  /** A duplicate of requests that all still wait in their peers' queues. */
  race?: boolean
  /** A registry request for a chunk that no peer holds at all, not even a resting one. */
  orphan?: boolean
}

/** A 32-bit mix (murmur3 finaliser) of the seed and a number: a stable pseudo-random order. */
export function tieBreak (seed: number, n: number): number {
  let h = (seed ^ Math.imul(n + 0x9e3779b9, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** A seed from a string (our peer id), FNV-1a. */
export function seedOf (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

const DEFAULT_DUPLICATES = 2
/**
 * Equally rare chunks are taken a block at a time, in a seeded order within each block: other
 * seeds still ask for different chunks, and the whole-blob hash, which must run in byte order,
 * follows the download closely instead of waiting for the last chunk and reading it all back.
 */
export const ORDER_BLOCK = 16

export function pick (input: PickerInput): Assignment[] {
  const { chunks, have, perPeerLimit, seed } = input
  const holders = input.peers.filter(p => p.banned !== true)
  const peers = holders.filter(p => p.resting !== true)
  const peerSeed = new Map(peers.map(p => [p.id, seedOf(p.id)]))
  const load = new Map<string, number>()
  for (const p of peers) load.set(p.id, p.inflight)
  let registryLoad = input.inflight.filter(r => r.source === REGISTRY).length
  const maxInflight = input.maxInflight ?? Infinity
  let total = input.inflight.length
  const sourcesOf = new Map<number, Set<string>>()
  for (const r of input.inflight) {
    let s = sourcesOf.get(r.chunk)
    if (s === undefined) sourcesOf.set(r.chunk, s = new Set())
    s.add(r.source)
  }
  const known = peers.map(p => p.rate).filter((r): r is number => r !== undefined && r > 0)
  const optimistic = known.length > 0 ? Math.max(...known) : 1
  const rateOf = (p: PickerPeer): number => p.rate !== undefined && p.rate > 0 ? p.rate : optimistic
  const out: Assignment[] = []

  /** The holder of `chunk` that would finish a new request soonest, skipping `exclude`. */
  const bestHolder = (chunk: number, exclude: (id: string) => boolean): PickerPeer | undefined => {
    let best: PickerPeer | undefined
    let bestScore = Infinity
    let bestTie = 0
    for (const p of peers) {
      const l = load.get(p.id) as number
      if (l >= (p.limit ?? perPeerLimit) || exclude(p.id) || !p.has(chunk)) continue
      const score = (l + 1) / rateOf(p)
      const tie = tieBreak(seed ^ chunk, peerSeed.get(p.id) as number)
      if (score < bestScore || (score === bestScore && tie < bestTie)) { best = p; bestScore = score; bestTie = tie }
    }
    return best
  }
  const assign = (source: string, chunk: number, duplicate: boolean, orphan?: boolean, race?: boolean): void => {
    out.push(orphan !== undefined ? { source, chunk, duplicate, orphan } : race === true ? { source, chunk, duplicate, race } : { source, chunk, duplicate })
    total++
    if (source === REGISTRY) registryLoad++
    else load.set(source, (load.get(source) as number) + 1)
    let s = sourcesOf.get(chunk)
    if (s === undefined) sourcesOf.set(chunk, s = new Set())
    s.add(source)
  }

  const missing: number[] = []
  for (let i = 0; i < chunks; i++) if (!have(i)) missing.push(i)
  const availability = new Map<number, number>()
  for (const i of missing) {
    let n = 0
    for (const p of peers) if (p.has(i)) n++
    availability.set(i, n)
  }
  const fresh = missing.filter(i => !sourcesOf.has(i))
  const share = input.share ?? (() => 0)
  const avoid = input.avoid
  fresh.sort((a, b) => share(a) - share(b) || (availability.get(a) as number) - (availability.get(b) as number) ||
    Math.floor(a / ORDER_BLOCK) - Math.floor(b / ORDER_BLOCK) || tieBreak(seed, a) - tieBreak(seed, b) || a - b)
  for (const i of fresh) {
    if (total >= maxInflight) return out
    if (input.defer?.(i) === true) continue
    if ((availability.get(i) as number) === 0) {
      if (input.registry !== undefined && registryLoad < input.registry.limit && input.registry.allowed?.(i) !== false) assign(REGISTRY, i, false, !holders.some(p => p.has(i)))
      continue
    }
    const p = bestHolder(i, avoid === undefined ? () => false : id => avoid(id, i))
    if (p !== undefined) assign(p.id, i, false)
  }

  const maxDup = input.maxDuplicates ?? DEFAULT_DUPLICATES
  const oldest = new Map<number, number>()
  const waiting = new Map<number, boolean>()
  for (const r of input.inflight) {
    oldest.set(r.chunk, Math.min(oldest.get(r.chunk) ?? Infinity, r.started))
    waiting.set(r.chunk, (waiting.get(r.chunk) ?? true) && r.queued === true)
  }
  const slowestFirst = missing.filter(i => oldest.has(i))
    .sort((a, b) => (oldest.get(a) as number) - (oldest.get(b) as number) || a - b)
  /** A second source for each chunk that passes `ok`, oldest request first, on peers with room. */
  const duplicate = (ok: (i: number) => boolean, race: boolean): void => {
    for (const i of slowestFirst) {
      if (total >= maxInflight) break
      const sources = sourcesOf.get(i) as Set<string>
      if (sources.size >= maxDup || !ok(i)) continue
      const p = bestHolder(i, id => sources.has(id) || (avoid?.(id, i) ?? false))
      if (p !== undefined) assign(p.id, i, true, undefined, race)
    }
  }
  if (input.raceQueued === true) duplicate(i => waiting.get(i) === true, true)

  // Endgame only once every chunk that some source could serve is requested: then idle peers race
  // the slowest requests.
  const servable = (i: number): boolean => (availability.get(i) as number) > 0 || (input.registry !== undefined && input.registry.allowed?.(i) !== false)
  if (!input.endgame || missing.some(i => !sourcesOf.has(i) && servable(i))) return out
  duplicate(() => true, false)
  return out
}
