import type { Clock } from '../../util/clock.js'

/** After a peer's data port could not be reached, its requests go over libp2p for this long... */
export const DATA_RETRY_MS = 60_000
/** ...twice as long after each failure in a row, up to this: a firewalled port costs a dial timeout seldom. */
export const DATA_RETRY_MAX_MS = 30 * 60_000

/** Which peers' data ports to leave alone for a while (a firewall, an older node): their requests take libp2p. */
export interface Reachability {
  /** Whether to try `peer`'s data port now. */
  tryData: (peer: string) => boolean
  /** `peer`'s data port could not be reached. */
  unreachable: (peer: string) => void
  /** `peer`'s data port answered: the next failure waits the shortest time again. */
  reachable: (peer: string) => void
}

export function createReachability (clock: Clock, retryMs = DATA_RETRY_MS, maxMs = DATA_RETRY_MAX_MS): Reachability {
  const failed = new Map<string, { until: number, times: number }>()
  return {
    tryData: (peer) => (failed.get(peer)?.until ?? 0) <= clock.now(),
    unreachable: (peer) => {
      const times = (failed.get(peer)?.times ?? 0) + 1
      failed.set(peer, { until: clock.now() + Math.min(maxMs, retryMs * 2 ** (times - 1)), times })
    },
    reachable: (peer) => { failed.delete(peer) }
  }
}
