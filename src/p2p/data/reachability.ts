import type { Clock } from '../../util/clock.js'

/** After a peer's data port could not be reached, its requests go over libp2p for this long. */
export const DATA_RETRY_MS = 60_000

/** Which peers' data ports to leave alone for a while (a firewall, an older node): their requests take libp2p. */
export interface Reachability {
  /** Whether to try `peer`'s data port now. */
  tryData: (peer: string) => boolean
  /** `peer`'s data port could not be reached. */
  unreachable: (peer: string) => void
}

export function createReachability (clock: Clock, retryMs = DATA_RETRY_MS): Reachability {
  const until = new Map<string, number>()
  return {
    tryData: (peer) => {
      if ((until.get(peer) ?? 0) > clock.now()) return false
      until.delete(peer)
      return true
    },
    unreachable: (peer) => { until.set(peer, clock.now() + retryMs) }
  }
}
