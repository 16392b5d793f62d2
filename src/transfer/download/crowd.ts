/**
 * Rules for when many nodes download one blob at once and few (often one) hold it whole: the
 * first holders' uplinks are what everyone shares, so they should send each chunk about once
 * and the downloaders trade the rest. Each downloader works these out alone from the cluster
 * view, so no one coordinates; views that differ for a moment cost a duplicate chunk at most.
 */
import type { InflightRequest } from './picker.js'
import type { PeerState } from './peer-state.js'

/** A downloader whose copy has not grown for this long is not waited for any more. */
export const DEFER_STALL_MS = 15_000
/** Requests in flight to a first holder that many downloaders share. */
export const SEED_INFLIGHT = 1

export interface CrowdInput {
  selfId: string
  peers: Map<string, PeerState>
  /** Peers in the cluster view now (a resting one still counts as a downloader, so shares stay put). */
  present: (id: string) => boolean
  /** Peers usable now (present, not banned, not resting). */
  usable: (st: PeerState) => boolean
  /** When each peer's copy last grew. */
  grewAt: (id: string) => number | undefined
  /** Chunks in the blob. */
  chunks: number
  /** Chunks are taken from partial holders only against announced hashes (no chunk map yet). */
  needAnnounced: boolean
  now: number
}

export interface CrowdRules {
  /** 0 for this node's share of the chunks (asked of a first holder first), 1 for the rest. */
  share: (chunk: number) => number
  /** A chunk outside our share that only first holders have: wait for the downloader whose share it is. */
  defer: (chunk: number) => boolean
  /** Not from this holder: a first holder, for a chunk another downloader can pass on (until every chunk has reached one). */
  avoid: (source: string, chunk: number) => boolean
  /** Requests in flight allowed to this peer, if limited. */
  limit: (id: string) => number | undefined
  /**
   * Requests in flight to first holders to drop: those sent before the crowd came into view
   * (`since`) for chunks outside our share, those still queued for a chunk another downloader
   * can now pass on, and any past the limit, ours and the oldest kept.
   * Never one the holder is `serving` already: its bytes so far would be lost, and the chunk's
   * owner takes it from us as it arrives rather than from the holder, so it crosses that uplink once.
   */
  excess: (inflight: InflightRequest[], since: number, serving?: (r: InflightRequest) => boolean) => InflightRequest[]
}

/** The rules, or undefined while this node is the only downloader in view. */
export function crowdRules (c: CrowdInput): CrowdRules | undefined {
  const partials = [...c.peers.values()].filter(st => c.usable(st) && !st.complete())
  // Downloaders of this blob (partial holders and us), in id order: chunk i is first the (i mod n)-th one's.
  const downloaders = [c.selfId, ...[...c.peers.values()].filter(st => st.id !== c.selfId && c.present(st.id) && !st.complete()).map(st => st.id)].sort()
  if (downloaders.length < 2) return undefined
  const mine = downloaders.indexOf(c.selfId)
  const share = (i: number): number => i % downloaders.length === mine ? 0 : 1
  // Any usable peer that was not a first holder can pass a chunk on, a downloader that has finished too.
  const passers = [...c.peers.values()].filter(st => !st.seed && c.usable(st))
  const passOn = new Map<number, boolean>()
  const canPassOn = (i: number): boolean => {
    let p = passOn.get(i)
    if (p === undefined) passOn.set(i, p = passers.some(st => st.holds(i, c.needAnnounced)))
    return p
  }
  const seeds = [...c.peers.values()].filter(st => st.seed && c.usable(st))
  // Once every chunk has reached another downloader, no chunk is a first holder's alone: its uplink
  // is one more source for the rest, as any other holder's, rather than idle while the crowd
  // trades. (Not only the chunks we miss: one that only we have is still the holder's to send to
  // the others, and asking it for more would take its uplink from them.)
  // Worked out only when a first holder is asked about, once per round.
  let allPassed: boolean | undefined
  const everyChunkOut = (): boolean => {
    if (allPassed === undefined) {
      allPassed = true
      for (let i = 0; allPassed && i < c.chunks; i++) allPassed = canPassOn(i)
    }
    return allPassed
  }
  const isSeed = (id: string): boolean => c.peers.get(id)?.seed === true && !everyChunkOut()
  return {
    share,
    defer: (i) => {
      if (share(i) === 0) return false
      const owner = c.peers.get(downloaders[i % downloaders.length] as string)
      if (owner === undefined || !c.usable(owner) || owner.complete() || c.now - (c.grewAt(owner.id) ?? 0) > DEFER_STALL_MS) return false
      // A chunk no first holder has comes from the registry, where the upstream owner rule
      // decides; waiting here too made each chunk wait on two owners that could differ.
      return seeds.some(st => st.holds(i, c.needAnnounced)) && !partials.some(st => st.holds(i, c.needAnnounced))
    },
    avoid: (id, i) => isSeed(id) && canPassOn(i),
    limit: (id) => isSeed(id) ? SEED_INFLIGHT : undefined,
    excess: (inflight, since, serving = () => false) => {
      const out: InflightRequest[] = []
      const bySeed = new Map<string, InflightRequest[]>()
      for (const r of inflight) {
        if (!isSeed(r.source)) continue
        // Sent blind, before we knew who else downloads: another downloader brings that chunk.
        if (r.started < since && share(r.chunk) !== 0 && !serving(r)) { out.push(r); continue }
        // Still queued there, and another downloader got the chunk meanwhile: it comes from them.
        // Kept, it held our one request to the holder while chunks only it has (rarer, so first
        // in its queue) went out to the others, and our share waited to the end of the pull.
        if (!serving(r) && canPassOn(r.chunk)) { out.push(r); continue }
        const rs = bySeed.get(r.source)
        if (rs === undefined) bySeed.set(r.source, [r])
        else rs.push(r)
      }
      const rank = (r: InflightRequest): number => serving(r) ? 0 : 1
      for (const rs of bySeed.values()) {
        rs.sort((a, b) => rank(a) - rank(b) || share(a.chunk) - share(b.chunk) || a.started - b.started)
        out.push(...rs.slice(SEED_INFLIGHT).filter(r => !serving(r)))
      }
      return out
    }
  }
}
