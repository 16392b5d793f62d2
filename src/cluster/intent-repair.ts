import type { Clock, Timer } from '../util/clock.js'
import type { IntentStore } from './intents.js'
import type { ClusterState } from './state.js'
import { INTENT_RESYNC_MS, INTENT_SETTLE_MS } from './constants.js'

export interface IntentRepairComponents {
  state: ClusterState
  intents: IntentStore
  clock: Clock
  /** Pulls the full state (records and intents) from one peer; false when that failed. */
  sync: (peerId: string) => Promise<boolean>
  /** In [0, 1): spreads the checks of many nodes that see the same difference. */
  random?: () => number
}

export interface IntentRepairInit {
  /** How long a difference must last before a sync (gossip still under way): this to twice this. */
  settleMs?: number
  /** At most one repair sync for the same pair of digests (ours, theirs) this often, with any peer. */
  resyncMs?: number
}

export interface IntentRepair { stop: () => void }

/**
 * Intents travel by gossip once. A message can be lost (a peer that joined a moment earlier is not
 * yet subscribed), and nothing else in the stream shows the gap, so every record carries a digest
 * of its owner's intents: a live peer whose digest stays different from ours is synced from.
 * Both sides of a difference see it, so each pulls from the other and the sets meet.
 */
export function startIntentRepair (c: IntentRepairComponents, init: IntentRepairInit = {}): IntentRepair {
  const settle = init.settleMs ?? INTENT_SETTLE_MS
  const resync = init.resyncMs ?? INTENT_RESYNC_MS
  const random = c.random ?? Math.random
  const pending = new Map<string, Timer>()
  /** Pairs of digests repaired lately, and when each may be tried again. */
  const tried = new Map<string, number>()
  let inflight = false
  let stopped = false

  /** Both digests as one string when they differ; undefined when there is nothing to repair. */
  const difference = (peerId: string): string | undefined => {
    const m = c.state.member(peerId)
    if (m === undefined || m.self || m.liveness !== 'alive') return undefined
    const theirs = m.record.intentsDigest
    // Records of older versions carry no digest: nothing to compare.
    if (theirs.byteLength === 0 || c.intents.matches(theirs)) return undefined
    return `${Buffer.from(theirs).toString('hex')}/${Buffer.from(c.intents.digest()).toString('hex')}`
  }

  const fire = (peerId: string): void => {
    pending.delete(peerId)
    const now = c.clock.now()
    const pair = difference(peerId)
    // One repair at a time: the first usually closes the difference with every other peer too.
    // The same difference again waits, whichever peer shows it: a set that one side refuses (over
    // the intent limit, a stamp too far ahead) stays apart, and asking each of 31 peers in turn
    // would not help. A peer that has since learned more is asked at once.
    if (stopped || inflight || pair === undefined || now < (tried.get(pair) ?? 0)) return
    inflight = true
    for (const [k, at] of tried) if (at <= now) tried.delete(k)
    tried.set(pair, now + resync)
    // A peer that could not be reached leaves the pair to the next peer that shows it.
    void c.sync(peerId).then(ok => { if (!ok) tried.delete(pair) }, () => { tried.delete(pair) }).finally(() => { inflight = false })
  }

  const off = c.state.onChange(m => {
    if (stopped || pending.has(m.peerId) || difference(m.peerId) === undefined) return
    const t = c.clock.setTimeout(() => { fire(m.peerId) }, settle * (1 + random()))
    t.unref?.()
    pending.set(m.peerId, t)
  })

  return {
    stop: () => {
      stopped = true
      off()
      for (const t of pending.values()) c.clock.clearTimeout(t)
      pending.clear()
    }
  }
}
