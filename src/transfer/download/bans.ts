import type { Clock } from '../../util/clock.js'

/** Peers shunned until a time, for sending bad chunks; one table serves every download of a node. */
export interface Bans {
  /** Bans the peer for `ms` from now. */
  ban: (peer: string, ms: number) => void
  /** When the peer's ban ends, on the clock; 0 when it has none. */
  until: (peer: string) => number
}

/** `onBan` hears of each ban (the metrics count them). */
export function createBans (clock: Clock, onBan?: () => void): Bans {
  const until = new Map<string, number>()
  return {
    ban: (peer, ms) => { until.set(peer, clock.now() + ms); onBan?.() },
    until: (peer) => until.get(peer) ?? 0
  }
}
