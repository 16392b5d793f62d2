import type { ClusterState, IntentStore, RecordSections, SignedIntent } from '../cluster/index.js'
import { digestHex, type Store } from '../store/index.js'
import type { Puller } from '../transfer/index.js'
import type { Clock } from '../util/clock.js'
import type { Startable } from '../util/lifecycle.js'
import type { Logger } from '../util/logger.js'
import { createActor, type Actor, type CacheLimits } from './act.js'
import { createJob, type ControlView, type IntentWrite } from './control.js'
import { createJobRunner, waitForJob, type JobRunner } from './jobs.js'

export interface PolicyComponents {
  selfId: string
  state: ClusterState
  intents: IntentStore
  /** Sends intents this node wrote (merged here already) to the cluster. */
  publishIntents: (signed: SignedIntent[]) => Promise<void>
  sections: RecordSections
  store: Store
  puller: Puller
  clock: Clock
  log: Logger
}

export const DEFAULT_GRACE_MS = 300_000

export interface PolicyInit {
  /** How long a silent node's copies keep counting, and a withdrawn keep claim waits. @default 300000 */
  graceMs?: number
  /** Bytes of models this node may hold (--max-cache). */
  maxCache?: number
  /** Free disk to keep (--min-free-disk): bytes, or a percentage of the disk. */
  minFreeDisk?: { bytes: number } | { percent: number }
}

/** The cluster as the operator's commands check it and change it. */
export interface ClusterControl {
  view: () => ControlView
  /** Writes intents (all checked already), gossips them, and lets this node act at once. */
  commit: (writes: IntentWrite[]) => Promise<void>
}

export interface Policy extends ClusterControl, Startable {
  actor: Actor
  jobs: JobRunner
  /** Brings a model to this node as a cluster job (so it shows with its progress), and waits for it. */
  pullHere: (model: string, signal: AbortSignal) => Promise<void>
}

/** This node's share of the placement plan and of cluster jobs, with its part of the node record (keep claims, job progress, limits). */
export function createPolicy (c: PolicyComponents, init: PolicyInit): Policy {
  const { selfId, state, intents, clock } = c
  const graceMs = init.graceMs ?? DEFAULT_GRACE_MS
  const diskTotal = (): number => Number(state.member(selfId)?.record.diskTotal ?? 0n)
  // Limits set for the cluster (`apply`: this node's, else every node's) win over the flags.
  const limits = (): CacheLimits => {
    const b = intents.get(`limits/${selfId}`)?.body ?? intents.get('limits/*')?.body
    const set = b?.kind === 'limits' ? b : undefined
    const flagFree = init.minFreeDisk === undefined ? 0 : 'bytes' in init.minFreeDisk ? init.minFreeDisk.bytes : Math.floor(diskTotal() * init.minFreeDisk.percent / 100)
    return {
      maxCache: (set?.maxCache ?? 0) > 0 ? (set?.maxCache as number) : init.maxCache ?? 0,
      minFreeDisk: (set?.minFreeDisk ?? 0) > 0 ? (set?.minFreeDisk as number) : flagFree
    }
  }
  const publishSoon = c.sections.changed
  const jobs = createJobRunner({ selfId, intents, puller: c.puller, db: c.store.db, clock, log: c.log, publishSoon })
  const actor = createActor({ selfId, state, intents, store: c.store, puller: c.puller, clock, log: c.log, publishSoon, publishIntents: c.publishIntents, limits }, { graceMs })
  let started = false
  // Nothing is claimed until the actor has looked at the plan.
  c.sections.add('policy', () => {
    if (!started) return { keep: [], jobs: [], maxCache: 0n, minFreeDisk: 0n, noRoom: [] }
    const l = limits()
    return {
      keep: actor.keep().map(k => ({ name: k.name, manifestDigest: new Uint8Array(Buffer.from(digestHex(k.digest), 'hex')) })),
      jobs: jobs.progress(),
      maxCache: BigInt(l.maxCache),
      minFreeDisk: BigInt(l.minFreeDisk),
      noRoom: actor.noRoom()
    }
  })
  const view = (): ControlView => ({ members: state.members(), intents, selfId, graceMs, now: clock.now() })
  const commit = async (writes: IntentWrite[]): Promise<void> => {
    const signed = []
    for (const w of writes) signed.push(await intents.write(w))
    if (signed.length > 0) await c.publishIntents(signed)
    actor.kick()
  }
  let off = (): void => {}
  return {
    actor,
    jobs,
    view,
    commit,
    pullHere: async (model, signal) => {
      const job = createJob(view(), model, [selfId], false)
      await commit(job.writes)
      await waitForJob(jobs, job.id, clock, signal)
    },
    start: async () => {
      await jobs.start()
      actor.start()
      started = true
      // Records of others carry their keep claims and job progress: a change may free a drop here.
      off = state.onChange(() => { actor.kick() })
    },
    stop: async () => { started = false; off(); await actor.stop(); await jobs.stop() }
  }
}
