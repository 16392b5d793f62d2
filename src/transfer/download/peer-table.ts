import { errorMessage, isOllamadError } from '../../errors.js'
import type { Digest } from '../../store/index.js'
import type { Clock } from '../../util/clock.js'
import type { Logger } from '../../util/logger.js'
import type { BlobClient } from '../protocol/client.js'
import type { Bans } from './bans.js'
import type { PickerPeer } from './picker.js'
import { PeerState, type PeerView } from './peer-state.js'

export interface PeerTableComponents {
  clock: Clock
  bans: Bans
  client: Pick<BlobClient, 'have'>
  /** A peer was banned: its requests in flight are to be dropped. */
  onBan: (id: string) => void
  log?: Logger
}

export interface PeerTableInit {
  digest: Digest
  size: number
  chunks: number
  /** How long a peer that sent a bad chunk is shunned. */
  banMs: number
  /** How often partial holders are asked for fresh bitmaps. */
  refreshMs: number
}

/**
 * The peers of one download: who is in the cluster view now, how each copy grows, what each
 * peer did (rested after failures, banned for bad chunks), and fresh bitmaps asked of partial
 * holders when some chunk has no source.
 */
export interface PeerTable {
  readonly peers: Map<string, PeerState>
  /** The peers the cluster view shows now. */
  sync: (views: readonly PeerView[]) => void
  present: (id: string) => boolean
  /** Present, not banned and not resting. */
  usable: (st: PeerState, now: number) => boolean
  /** When the peer's copy last grew. */
  grewAt: (id: string) => number | undefined
  /** Bans the peer for the ban time. */
  ban: (st: PeerState, why: string) => void
  /** Peers banned during this download. */
  banned: () => string[]
  /** A request to the peer failed: deny, rest, fail or ban it by the error. */
  failed: (st: PeerState, chunk: number, relayed: boolean, e: unknown) => void
  forPicker: (now: number, needAnnounced: boolean, relayOk: (chunk: number) => boolean) => PickerPeer[]
  /** Asks partial holders for fresh bitmaps (at most every refreshMs); `done` runs as each answer lands. */
  refresh: (now: number, signal: AbortSignal, done: () => void) => void
  /** Whether waiting could help: a peer may rest or grow its bitmap, or a ban may end. */
  mayChange: (now: number) => boolean
  /** When rests and bans end. */
  wakeTimes: (now: number) => number[]
  /** Some present peer offers the blob's chunk map. */
  offersMap: () => boolean
}

export function createPeerTable (c: PeerTableComponents, init: PeerTableInit): PeerTable {
  const { clock, bans } = c
  const peers = new Map<string, PeerState>()
  let present = new Set<string>()
  const growth = new Map<string, { count: number, at: number }>()
  const banned: string[] = []
  let lastRefresh = -Infinity
  const table: PeerTable = {
    peers,
    sync: (views) => {
      present = new Set()
      for (const v of views) {
        const count = v.bitmap.count()
        const g = growth.get(v.id)
        if (g === undefined || count > g.count) growth.set(v.id, { count, at: clock.now() })
        if (v.bitmap.length !== init.chunks) { c.log?.debug(`ignoring ${v.id}: its bitmap has ${v.bitmap.length} chunks, not ${init.chunks}`); continue }
        const st = peers.get(v.id)
        if (st === undefined) peers.set(v.id, new PeerState(v))
        else st.update(v)
        present.add(v.id)
      }
    },
    present: (id) => present.has(id),
    usable: (st, now) => present.has(st.id) && bans.until(st.id) <= now && st.restUntil <= now,
    grewAt: (id) => growth.get(id)?.at,
    ban: (st, why) => {
      bans.ban(st.id, init.banMs)
      if (!banned.includes(st.id)) banned.push(st.id)
      c.log?.info(`banned peer ${st.id} for ${init.banMs} ms: ${why}`)
      c.onBan(st.id)
    },
    banned: () => banned,
    failed: (st, chunk, relayed, e) => {
      c.log?.debug(`chunk ${chunk} from ${st.id} failed: ${errorMessage(e)}`)
      const now = clock.now()
      if (isOllamadError(e, 'BLOB_NOT_FOUND')) st.deny(chunk)
      else if (isOllamadError(e, 'PEER_BUSY')) st.rest(now)
      else if (isOllamadError(e, 'PEER_PROTOCOL')) table.ban(st, errorMessage(e))
      // A relay is cut when the chunk's own download there ends (a lost race, a stall upstream): rest it briefly.
      else if (relayed) st.rest(now)
      else st.fail(now, init.banMs)
    },
    forPicker: (now, needAnnounced, relayOk) => [...peers.values()].map(st => st.asPicker(now, bans.until(st.id), needAnnounced, present.has(st.id), relayOk)),
    refresh: (now, signal, done) => {
      if (now - lastRefresh < init.refreshMs) return
      lastRefresh = now
      for (const st of peers.values()) {
        if (!present.has(st.id) || st.refreshing || st.complete() || bans.until(st.id) > now) continue
        st.refreshing = true
        void c.client.have(st.id, init.digest, { signal })
          .then(h => { if (h !== undefined && h.size === init.size) st.report(h.bitmap) }, () => {})
          .finally(() => { st.refreshing = false; done() })
      }
    },
    mayChange: (now) => [...peers.values()].some(st => st.restUntil > now || bans.until(st.id) > now || (present.has(st.id) && !st.complete())),
    wakeTimes: (now) => [...peers.values()].map(st => Math.max(st.restUntil, bans.until(st.id))).filter(t => t > now),
    offersMap: () => [...peers.values()].some(st => present.has(st.id) && st.view.hasMap === true)
  }
  return table
}
