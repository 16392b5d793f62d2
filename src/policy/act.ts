import { firstAlive, type ClusterState, type IntentStore, type SignedIntent } from '../cluster/index.js'
import { errorMessage, isOllamadError } from '../errors.js'
import { digestHex, displayName, nameKey, parseModelName, type Digest, type ModelEntry, type Store } from '../store/index.js'
import type { Puller } from '../transfer/index.js'
import type { Clock, Timer } from '../util/clock.js'
import type { Logger } from '../util/logger.js'
import type { Startable } from '../util/lifecycle.js'
import { plan, roomOf, type Placement } from './plan.js'
import { claimsKeep, clusterModels, holdsAnyOf, planInput, planNodes } from './view.js'

export interface ActComponents {
  selfId: string
  state: ClusterState
  intents: IntentStore
  store: Store
  puller: Puller
  clock: Clock
  log: Logger
  /** The node record changed (keep claims): publish it soon. */
  publishSoon: () => void
  /** Gossips intents this node wrote (a settled delete's tombstone). @default left to anti-entropy */
  publishIntents?: (signed: SignedIntent[]) => Promise<void>
  /** This node's cache limits now, in bytes (0: none). @default none */
  limits?: () => CacheLimits
}

/** How long a model whose fetch failed waits before the next try. */
const FETCH_RETRY_MS = 60_000
/** How long a node says it has no room for a model after a fetch found the disk full. */
const NO_ROOM_MS = 10 * 60_000

export interface CacheLimits {
  /** Bytes of models this node may hold. */
  maxCache: number
  /** Free disk this node keeps. */
  minFreeDisk: number
}

export interface ActInit {
  /** How long a silent node's copies keep counting, and how long a withdrawn claim waits before a drop. */
  graceMs: number
  /** @default 2000 */
  intervalMs?: number
}

export interface Actor extends Startable {
  /** Models this node vouches it keeps, by key → manifest digest (for its record). */
  keep: () => Array<{ name: string, digest: Digest }>
  /** Models it has no room for now (for its record). */
  noRoom: () => string[]
  /** Runs one step now (tests; and after an intent is written here). */
  step: () => Promise<void>
  kick: () => void
}

/**
 * This node's share of the plan: fetch what the plan assigns it, and drop what it no longer
 * assigns only by the keep-claim rule. Also carries out cluster deletions and eviction. Every
 * change goes through the store and the puller, which keep their own safety checks.
 */
export function createActor (c: ActComponents, init: ActInit): Actor {
  const interval = init.intervalMs ?? 2_000
  /** Models whose keep claim is withdrawn: key → when the drop may happen. */
  const dropping = new Map<string, { at: number, digest: string, need: number, why: string }>()
  /** The last targets seen per model, so a change of plan is logged once. */
  const lastTargets = new Map<string, string>()
  const fetching = new Map<string, AbortController>()
  let timer: Timer | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  const local = (): Map<string, ModelEntry> => new Map(c.store.list().map(e => [nameKey(e.name), e]))

  /** Models whose fetch failed: not tried again before this time (a full disk would fail every step). */
  const failedUntil = new Map<string, number>()
  /** Models this node had no room for, until when it says so. */
  const noRoom = new Map<string, number>()
  const fetch = (p: Placement, name: string): void => {
    if (fetching.has(p.model) || (failedUntil.get(p.model) ?? 0) > c.clock.now()) return
    const ac = new AbortController()
    fetching.set(p.model, ac)
    c.log.info(`fetching ${name} (assigned here)`)
    c.puller.pull(parseModelName(name), { signal: ac.signal })
      .then(() => { failedUntil.delete(p.model); if (noRoom.delete(p.model)) c.publishSoon(); c.log.info(`holding ${name}`) }, (e: unknown) => {
        if (ac.signal.aborted) return
        failedUntil.set(p.model, c.clock.now() + FETCH_RETRY_MS)
        // Said in the record, so every node's plan gives the model to another node meanwhile.
        if (isOllamadError(e, 'NO_ROOM')) { noRoom.set(p.model, c.clock.now() + NO_ROOM_MS); c.publishSoon() }
        c.log.error(`fetching ${name}: ${errorMessage(e)} (trying again in ${FETCH_RETRY_MS / 1000} s)`)
      })
      .finally(() => { fetching.delete(p.model); kick() })
  }

  const drop = async (e: ModelEntry, why: string): Promise<void> => {
    c.log.info(`dropping ${displayName(e.name)} (${why})`)
    await c.store.remove(e.name).catch((err: unknown) => { c.log.error(`dropping ${displayName(e.name)}: ${errorMessage(err)}`) })
  }

  /** Withdraws the claim now; drops once `need` other live nodes claim the same digest in records newer than the wait. */
  const releaseOrDrop = async (key: string, e: ModelEntry, need: number, why: string): Promise<boolean> => {
    const now = c.clock.now()
    let d = dropping.get(key)
    if (d === undefined || d.digest !== e.digest) {
      d = { at: now + init.graceMs, digest: e.digest, need, why }
      dropping.set(key, d)
      c.publishSoon()
      return false
    }
    d.need = need
    if (now < d.at) return false
    const claims = c.state.members().filter(m => !m.self && m.liveness === 'alive' && m.lastRise >= d.at && claimsKeep(m, key, e.digest))
    if (claims.length < need) return false
    dropping.delete(key)
    await drop(e, why)
    return true
  }

  /**
   * A delete that no record (of any node, a silent one included) shows a copy of any more is
   * done; the first alive member by peer id tombstones it, and the tombstone reaches the others
   * by anti-entropy. Until then a copy at a deleted digest goes wherever it shows up.
   */
  const settleDeletes = async (members: ReturnType<ClusterState['members']>): Promise<void> => {
    if (firstAlive(members) !== c.selfId) return
    for (const b of c.intents.bodies('delete')) {
      if (members.some(m => holdsAnyOf(m, b.model, b.digests))) continue
      const tomb = await c.intents.write({ tombstone: `delete/${b.model}` })
      await c.publishIntents?.([tomb]).catch(() => {})
      c.log.info(`the cluster delete of ${b.model} is settled: no node holds it any more`)
    }
  }

  const step = async (): Promise<void> => {
    const now = c.clock.now()
    const members = c.state.members()
    const mine = local()
    const placements = plan(planInput(members, c.intents, now, init.graceMs))
    const names = clusterModels(members)
    const wanted = new Set<string>()
    // Cluster deletions: a copy at a deleted digest goes, even the last one (the operator asked).
    // File times play no part: a copy restored with its old mtime at another digest stays.
    for (const b of c.intents.bodies('delete')) {
      const e = mine.get(b.model)
      if (e !== undefined && b.digests.includes(digestHex(e.digest))) {
        await drop(e, 'deleted in the cluster')
        mine.delete(b.model)
      }
    }
    await settleDeletes(members)
    for (const p of placements) {
      const shown = p.targets.join(',')
      if (lastTargets.get(p.model) !== shown) { lastTargets.set(p.model, shown); c.log.debug(`${p.model} wants ${p.replicas} at [${shown}]`) }
      if (p.replicas === 0) continue
      const e = mine.get(p.model)
      const assigned = p.targets.includes(c.selfId)
      if (assigned) {
        wanted.add(p.model)
        if (dropping.delete(p.model)) c.publishSoon()
        const name = names.get(p.model)?.name
        if (e?.digest !== p.digest && name !== undefined) fetch(p, name)
      } else if (e !== undefined) {
        fetching.get(p.model)?.abort()
        await releaseOrDrop(p.model, e, p.replicas, 'no longer assigned here')
      }
    }
    await evict(mine, wanted, members, now)
    for (const key of [...dropping.keys()]) if (!mine.has(key)) dropping.delete(key)
  }

  /** Over the cache or disk limit: the least recently used unpinned models that have other copies go first. */
  const evict = async (mine: Map<string, ModelEntry>, wanted: Set<string>, members: ReturnType<ClusterState['members']>, now: number): Promise<void> => {
    const { maxCache, minFreeDisk } = c.limits?.() ?? { maxCache: 0, minFreeDisk: 0 }
    if (maxCache === 0 && minFreeDisk === 0) return
    const self = planNodes(members.filter(m => m.self), now, init.graceMs)[0]
    if (self === undefined) return
    let over = -roomOf({ ...self, maxCache, minFreeDisk })
    if (over <= 0) return
    const pinned = new Set(c.intents.bodies('pin').filter(p => p.node === c.selfId).map(p => p.model))
    const lru = [...mine.entries()].filter(([k]) => !pinned.has(k) && !wanted.has(k) && !fetching.has(k))
      .sort((a, b) => a[1].modifiedAt.getTime() - b[1].modifiedAt.getTime())
    for (const [key, e] of lru) {
      if (over <= 0) break
      if (await releaseOrDrop(key, e, 1, 'evicted: over the cache limit')) over -= e.size
      else if (dropping.has(key)) over -= e.size // counted as going, so the next one is not also withdrawn
    }
  }

  const run = (): void => {
    if (stopped) return
    if (running !== undefined) { again = true; return }
    running = (async () => {
      do { again = false; await step().catch((e: unknown) => { c.log.error(`step: ${errorMessage(e)}`) }) } while (again && !stopped)
    })().finally(() => { running = undefined })
  }
  // Records arrive many times a second in a large cluster: steps run at most every 200 ms for them.
  let soon: Timer | undefined
  const kick = (): void => {
    if (stopped || soon !== undefined) return
    soon = c.clock.setTimeout(() => { soon = undefined; run() }, 200)
  }
  const tick = (): void => {
    run()
    if (!stopped) { timer = c.clock.setTimeout(tick, interval); timer.unref?.() }
  }
  let offIntents = (): void => {}

  return {
    start: () => {
      offIntents = c.intents.onChange(kick)
      tick()
    },
    keep: () => c.store.list().filter(e => !dropping.has(nameKey(e.name))).map(e => ({ name: displayName(e.name), digest: e.digest })),
    noRoom: () => [...noRoom].filter(([, until]) => until > c.clock.now()).map(([model]) => model).sort(),
    step: async () => { run(); while (running !== undefined) await running },
    kick,
    stop: async () => {
      stopped = true
      offIntents()
      if (timer !== undefined) c.clock.clearTimeout(timer)
      if (soon !== undefined) c.clock.clearTimeout(soon)
      for (const ac of fetching.values()) ac.abort()
      await running
    }
  }
}
