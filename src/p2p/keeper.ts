import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Clock, Timer } from '../util/clock.js'
import type { Logger } from '../util/logger.js'
import type { Startable } from '../util/lifecycle.js'
import type { P2pNode } from './node.js'
import { REDIAL_INTERVAL_MS } from './constants.js'

/** Records arrive in bursts: one dial pass for a burst. */
const KICK_DELAY_MS = 100

export interface KnownPeer { peerId: string, addrs: string[] }

export interface KeeperInit {
  bootstrap: string[]
  /** Peers the cluster state knows, so a node that restarts finds its cluster again. */
  known: () => KnownPeer[]
  /** Calls back with a member's peer id whenever its record changes (a new member is dialled at once). */
  onMember?: (listener: (peerId: string) => void) => () => void
  intervalMs?: number
}

/**
 * Keeps the swarm connected: dials peers found by mdns at once, members the cluster state learns
 * of soon after, and every few seconds redials bootstrap addresses and known members that are not
 * connected. Every member connected to every other lets a record's own publish reach all nodes,
 * instead of hanging on gossipsub's relays.
 */
export interface Keeper extends Startable {
  /** A member may be new or unconnected: dial the known members soon, not at the next tick. */
  kick: () => void
}

export interface KeeperComponents { node: P2pNode, clock: Clock, log: Logger }

export function createKeeper ({ node, clock, log }: KeeperComponents, init: KeeperInit): Keeper {
  let stopped = false
  let timer: Timer | undefined
  let soon: Timer | undefined
  const dialing = new Set<string>()
  const dial = (key: string, target: Multiaddr | Multiaddr[]): void => {
    if (stopped || dialing.has(key)) return
    dialing.add(key)
    node.dial(target, { signal: AbortSignal.timeout(10_000) })
      .then(() => { log.debug(`connected to ${key}`) })
      .catch((e: Error) => { log.debug(`dial ${key}: ${e.message}`) })
      .finally(() => dialing.delete(key))
  }
  const connected = (id: string): boolean => node.getConnections().some(c => c.remotePeer.toString() === id)
  const onDiscovery = (evt: CustomEvent<{ id: { toString: () => string }, multiaddrs: Multiaddr[] }>): void => {
    const id = evt.detail.id.toString()
    if (id !== node.peerId.toString() && !connected(id) && evt.detail.multiaddrs.length > 0) dial(id, evt.detail.multiaddrs)
  }
  const dialKnown = (): void => {
    for (const p of init.known()) {
      if (p.peerId === node.peerId.toString() || connected(p.peerId)) continue
      try {
        peerIdFromString(p.peerId)
        const addrs = p.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
        if (addrs.length > 0) dial(p.peerId, addrs)
      } catch {}
    }
  }
  const tick = (): void => {
    for (const a of init.bootstrap) {
      let ma: Multiaddr
      try { ma = multiaddr(a) } catch { continue }
      const id = ma.getComponents().find(c => c.name === 'p2p')?.value
      if (id === undefined || !connected(id)) dial(a, ma)
    }
    dialKnown()
    if (!stopped) { timer = clock.setTimeout(tick, init.intervalMs ?? REDIAL_INTERVAL_MS); timer.unref?.() }
  }
  const kick = (): void => {
    if (stopped || soon !== undefined) return
    soon = clock.setTimeout(() => { soon = undefined; dialKnown() }, KICK_DELAY_MS)
    soon.unref?.()
  }
  let offMember = (): void => {}
  return {
    start: () => {
      node.addEventListener('peer:discovery', onDiscovery as unknown as (e: Event) => void)
      offMember = init.onMember?.(id => { if (id !== node.peerId.toString() && !connected(id)) kick() }) ?? offMember
      tick()
    },
    kick,
    stop: () => {
      stopped = true
      if (timer !== undefined) clock.clearTimeout(timer)
      if (soon !== undefined) clock.clearTimeout(soon)
      node.removeEventListener('peer:discovery', onDiscovery as unknown as (e: Event) => void)
      offMember()
    }
  }
}
