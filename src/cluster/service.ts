import { TopicValidatorResult, type Message } from '@libp2p/gossipsub'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { P2pNode } from '../p2p/index.js'
import { isOllamadError } from '../errors.js'
import type { Clock, Timer } from '../util/clock.js'
import type { Startable } from '../util/lifecycle.js'
import type { Logger } from '../util/logger.js'
import { ClusterMessage, decodeClusterMessage, signRecord, type NodeRecord } from './record.js'
import { createSyncHandler, syncWith } from './sync.js'
import { startIntentRepair, type IntentRepair } from './intent-repair.js'
import { forgetGone } from './forget.js'
import { createSlots } from '../util/slots.js'
import type { ClusterState } from './state.js'
import type { IntentStore } from './intents.js'
import type { SignedIntent } from './intent-codec.js'
import type { RecordSections } from './sections.js'
import { DEFAULT_HEARTBEAT_MS, GOSSIP_TOPIC, INTENT_COLLECT_MS, MAX_CONCURRENT_SYNCS, MAX_INTENTS_PER_MESSAGE, PUBLISH_DEBOUNCE_MS, changeInterval, progressInterval, SYNC_PROTOCOL, SYNC_WAIT_MS } from './constants.js'

export interface ClusterServiceComponents {
  node: P2pNode
  privateKey: PrivateKey
  state: ClusterState
  clock: Clock
  log: Logger
  intents: IntentStore
  /** The node record's sections: each concern adds its own, and says when it changed. */
  sections: RecordSections
}

export interface ClusterServiceInit {
  /** @default 3000 */
  heartbeatMs?: number
  /** A full sync with one random live peer this often, to mend what gossip lost. @default 10 heartbeats */
  antiEntropyMs?: number
  /** In [0, 1): picks the anti-entropy peer and spreads intent repairs. @default Math.random */
  random?: () => number
}

export interface ClusterService extends Startable {
  /** Local facts changed: publish a new record soon (changes within 100 ms go out together). */
  publishSoon: () => void
  publishNow: () => Promise<void>
  /** Sends intents this node wrote (already merged locally) to the cluster. */
  publishIntents: (signed: SignedIntent[]) => Promise<void>
  /** Gossip messages of the cluster topic sent, received, and dropped as invalid, so far. */
  gossip: { sent: number, received: number, dropped: number }
}

/**
 * Gossips this node's record on every change and on a heartbeat, merges the records of others
 * after checking their signatures, and runs a full sync with each peer that connects, that shows
 * a gap in its sequence or a different intents digest, and with a random peer now and then.
 * Nothing runs until `start` (after the libp2p node has started).
 */
export function createClusterService (c: ClusterServiceComponents, init: ClusterServiceInit = {}): ClusterService {
  const { node, state, clock, log } = c
  const pubsub = node.services.pubsub
  const incarnation = BigInt(clock.now())
  let sequence = 0n
  let stopped = false
  let debounce: Timer | undefined
  /** When the pending record goes out. */
  let debounceAt = Infinity
  /** The next heartbeat: a heartbeat after the last record, whatever made that one. */
  let beat: Timer | undefined
  const heartbeatMs = init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  /** When the last record made by a change went out: heartbeats do not hold a change back. */
  let lastChange = -Infinity
  /** When the last record of any kind went out: each carries all progress so far. */
  let lastRecord = -Infinity
  /** The timers of the recurring tasks (heartbeat, anti-entropy), each re-armed once its run settles. */
  const loops = new Set<Timer>()
  const random = init.random ?? Math.random
  let publishing: Promise<void> = Promise.resolve()
  const syncing = new Set<string>()
  const gossip = { sent: 0, received: 0, dropped: 0 }
  const send = async (data: Uint8Array, what: string): Promise<void> => {
    await pubsub.publish(GOSSIP_TOPIC, data).then(() => { gossip.sent++ }, (e: Error) => { log.debug(`publish ${what}: ${e.message}`) })
  }
  const syncSlots = createSlots(MAX_CONCURRENT_SYNCS, clock)

  const publishNow = async (heartbeat = false): Promise<void> => {
    publishing = publishing.then(async () => {
      if (stopped) return
      // This record carries every change so far: one still waiting for its turn is in it.
      if (debounce !== undefined) { clock.clearTimeout(debounce); debounce = undefined; debounceAt = Infinity }
      const facts = await c.sections.gather()
      if (!heartbeat) lastChange = clock.now()
      lastRecord = clock.now()
      // Any record shows this node alive: the heartbeat waits a whole interval after it (while a
      // pull changes the record twice a second, heartbeats would only add records for every member to check).
      if (beat !== undefined) clock.clearTimeout(beat)
      beat = clock.setTimeout(() => { beat = undefined; void publishNow(true) }, heartbeatMs)
      beat.unref?.()
      sequence++
      const record: NodeRecord = { ...facts, peerId: node.peerId.toString(), incarnation, sequence, writtenAt: BigInt(clock.now()), intentsDigest: c.intents.digest() }
      const signed = await signRecord(c.privateKey, record)
      state.merge(signed, record)
      await send(ClusterMessage.encode({ records: [signed], intents: [] }), 'record')
    }).catch((e: Error) => { log.error(`cannot publish the node record: ${e.message}`) })
    await publishing
  }

  /**
   * A change waits out the interval after the last record a change made (heartbeats do not hold it
   * back); progress alone waits longer, after the last record of any kind, as each carried all
   * progress so far: in a large cluster progress then rides on the heartbeats.
   */
  const publishSoon = (progress = false): void => {
    // Progress, the frequent kind, never goes out sooner than a record already waiting (its
    // interval is the longer one): no need to count the members for it.
    if (stopped || (progress && debounce !== undefined)) return
    const alive = state.members().filter(m => m.liveness !== 'gone').length
    const now = clock.now()
    const at = Math.max(now + PUBLISH_DEBOUNCE_MS, progress ? lastRecord + progressInterval(alive) : lastChange + changeInterval(alive))
    if (debounce !== undefined) {
      if (at >= debounceAt) return
      clock.clearTimeout(debounce)
    }
    debounceAt = at
    debounce = clock.setTimeout(() => { debounce = undefined; debounceAt = Infinity; void publishNow() }, at - now)
  }

  const every = (ms: number, task: () => Promise<unknown>): void => {
    const t = clock.setTimeout(() => { loops.delete(t); void task().finally(() => { if (!stopped) every(ms, task) }) }, ms)
    t.unref?.()
    loops.add(t)
  }
  // A record relayed by gossip can be lost for good (its owner died before its next one showed the
  // gap), so now and then a full sync with a random live peer mends the view, as memberlist does.
  const mend = async (): Promise<unknown> => {
    const peers = state.members().filter(m => !m.self && m.liveness === 'alive')
    const p = peers[Math.floor(random() * peers.length)]
    return p === undefined ? undefined : await sync(peerIdFromString(p.peerId))
  }

  /** A full sync with one peer; false when it did not happen (already running, or failed). */
  const sync = async (peer: PeerId): Promise<boolean> => {
    const id = peer.toString()
    if (stopped || syncing.has(id)) return false
    syncing.add(id)
    // Each answer may take 32 MiB: a crowd of peers connecting at once is synced a few at a time.
    const release = await syncSlots.acquire(SYNC_WAIT_MS)
    if (release === undefined || stopped) { release?.(); syncing.delete(id); return false }
    return await syncWith(async (p, signal) => await node.dialProtocol(p, SYNC_PROTOCOL, { signal }), peer, state, c.intents, log)
      .then(n => { if (n > 0) log.debug(`sync with ${id}: ${n} newer records`); return true })
      .catch((e: Error) => { log.debug(`sync with ${id}: ${e.message}`); return false })
      .finally(() => { release(); syncing.delete(id) })
  }

  const validate = async (from: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    gossip.received++
    try {
      let fresh = false
      const decoded = await decodeClusterMessage(msg.data)
      for (const { signed, record } of decoded.records) {
        if (record.peerId === state.selfId) {
          if (record.incarnation !== incarnation) log.error(`another live node uses this node's peer id ${state.selfId} (a cloned data dir?)`)
          continue
        }
        const r = state.merge(signed, record)
        fresh ||= r.changed
        if (r.gap) void sync(from)
      }
      for (const { signed, intent } of decoded.intents) {
        // One refused intent (a writer not known yet, over its caps) does not condemn the message
        // or the peer that relayed it: anti-entropy brings it again once it is acceptable.
        try { fresh = c.intents.merge(signed, intent) || fresh } catch (e) {
          if (!isOllamadError(e, 'FORBIDDEN') && !isOllamadError(e, 'SIZE_LIMIT')) throw e
          state.stats.dropped++
          log.debug(`ignored an intent from ${from.toString()}: ${(e as Error).message}`)
        }
      }
      return fresh ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    } catch (e) {
      state.stats.dropped++
      gossip.dropped++
      log.debug(`dropped a gossip message from ${from.toString()}: ${(e as Error).message}`)
      return TopicValidatorResult.Reject
    }
  }

  const publishIntents = async (signed: SignedIntent[]): Promise<void> => {
    for (let i = 0; i < signed.length; i += MAX_INTENTS_PER_MESSAGE) {
      await send(ClusterMessage.encode({ records: [], intents: signed.slice(i, i + MAX_INTENTS_PER_MESSAGE) }), 'intents')
    }
  }

  const onConnect = (evt: CustomEvent<PeerId>): void => { void sync(evt.detail); publishSoon() }
  const offs: Array<() => void> = []
  let repair: IntentRepair | undefined
  return {
    publishSoon,
    publishNow: async () => { await publishNow() },
    publishIntents,
    gossip,
    start: async () => {
      pubsub.topicValidators.set(GOSSIP_TOPIC, validate)
      pubsub.subscribe(GOSSIP_TOPIC)
      await node.handle(SYNC_PROTOCOL, createSyncHandler(state, c.intents, log), { maxInboundStreams: 8 })
      node.addEventListener('peer:connect', onConnect)
      // The record carries the intents digest: a change goes out soon, and a lasting difference is repaired.
      offs.push(c.intents.onChange(() => { publishSoon() }), c.sections.onChange((progress) => { publishSoon(progress) }))
      repair = startIntentRepair({ state, intents: c.intents, clock, random, sync: async (id) => { log.debug(`intents differ from ${id}'s: syncing`); return await sync(peerIdFromString(id)) } })
      await publishNow()
      every(INTENT_COLLECT_MS, async () => {
        const n = c.intents.collect()
        if (n > 0) log.info(`collected ${n} expired intent(s) (old tombstones, finished jobs)`)
        await forgetGone({ state, intents: c.intents, publishIntents, log })
      })
      every(init.antiEntropyMs ?? 10 * heartbeatMs, mend)
    },
    stop: async () => {
      stopped = true
      node.removeEventListener('peer:connect', onConnect)
      for (const off of offs.splice(0)) off()
      repair?.stop()
      for (const t of loops) clock.clearTimeout(t)
      if (debounce !== undefined) clock.clearTimeout(debounce)
      if (beat !== undefined) clock.clearTimeout(beat)
      pubsub.unsubscribe(GOSSIP_TOPIC)
      pubsub.topicValidators.delete(GOSSIP_TOPIC)
      await node.unhandle(SYNC_PROTOCOL)
      await publishing
    }
  }
}
