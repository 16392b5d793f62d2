import type { Digest } from '../../store/index.js'
import type { Clock } from '../../util/clock.js'

/** How long a chunk sent whole counts its receiver as a holder: past the time its record takes to say so. */
export const RECENT_SEND_MS = 10_000
/** Chunks remembered at most; the oldest go first. */
const MAX_CHUNKS = 4096

/**
 * Chunks this node sent whole lately, and to which peers. A receiver holds the chunk a second or
 * two before its record says so, and meanwhile another downloader that has not heard may ask us
 * for it too: counted as a holder, that request waits behind one for a chunk nobody else has, so
 * an uplink that many share sends each chunk about once.
 */
export interface RecentSends {
  sent: (d: Digest, index: number, peer: string) => void
  /** Peers other than `asker` that got chunk `index` of `d` from us within the keep time (one that asks again does not hold it). */
  count: (d: Digest, index: number, asker: string) => number
}

export function createRecentSends (clock: Clock, keepMs = RECENT_SEND_MS): RecentSends {
  const chunks = new Map<string, Map<string, number>>()
  return {
    sent: (d, index, peer) => {
      const key = `${d}#${index}`
      const to = chunks.get(key) ?? new Map<string, number>()
      const since = clock.now() - keepMs
      for (const [p, at] of to) if (at < since) to.delete(p)
      // Re-inserted, so the map's order stays oldest first.
      chunks.delete(key)
      chunks.set(key, to.set(peer, clock.now()))
      // One in, so at most one out: the oldest.
      if (chunks.size > MAX_CHUNKS) chunks.delete(chunks.keys().next().value as string)
    },
    count: (d, index, asker) => {
      const to = chunks.get(`${d}#${index}`)
      if (to === undefined) return 0
      const since = clock.now() - keepMs
      let n = 0
      for (const [p, at] of to) if (at >= since && p !== asker) n++
      return n
    }
  }
}
