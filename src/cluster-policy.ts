import type { Clock } from './util/clock.js'
import type { Logger } from './util/logger.js'
import type { Store } from './store/index.js'
import type { Puller } from './transfer/index.js'
import type { Swarm } from './swarm.js'
import { startActor, startJobRunner, type Actor, type JobRunner } from './policy/index.js'
import { createJob, type ControlView, type IntentWrite } from './policy/control.js'
import { waitForJob } from './policy/jobs.js'
import type { ClusterControl } from './api/context.js'
import { digestHex } from './store/index.js'

export interface PolicyConfig {
  graceMs: number
  maxCache?: number
  /** Bytes, or a percentage of the disk. */
  minFreeDisk?: { bytes: number } | { percent: number }
}

export interface PolicyRuntime extends ClusterControl {
  actor: Actor
  jobs: JobRunner
  /** Brings a model to this node as a cluster job (so it shows with its progress), and waits for it. */
  pullHere: (model: string, signal: AbortSignal) => Promise<void>
  stop: () => Promise<void>
}

/** Starts this node's share of the placement plan and of cluster jobs, and puts both in its record. */
export async function startPolicy (cfg: PolicyConfig, c: { swarm: Swarm, store: Store, puller: Puller, clock: Clock, log: Logger }): Promise<PolicyRuntime> {
  const selfId = c.swarm.node.peerId.toString()
  const publishSoon = c.swarm.service.publishSoon
  const diskTotal = (): number => Number(c.swarm.state.member(selfId)?.record.diskTotal ?? 0n)
  // Limits set for the cluster (`apply`: this node's, else every node's) win over the flags.
  const intended = (): { maxCache: number, minFreeDisk: number } | undefined => {
    const b = c.swarm.intents.get(`limits/${selfId}`)?.body ?? c.swarm.intents.get('limits/*')?.body
    return b?.kind === 'limits' ? b : undefined
  }
  const minFree = (): number => {
    const i = intended()?.minFreeDisk ?? 0
    if (i > 0) return i
    return cfg.minFreeDisk === undefined ? 0 : 'bytes' in cfg.minFreeDisk ? cfg.minFreeDisk.bytes : Math.floor(diskTotal() * cfg.minFreeDisk.percent / 100)
  }
  const maxCache = (): number => { const i = intended()?.maxCache ?? 0; return i > 0 ? i : cfg.maxCache ?? 0 }
  const jobs = await startJobRunner({ selfId, intents: c.swarm.intents, puller: c.puller, db: c.store.db, clock: c.clock, log: c.log, publishSoon })
  const actor = startActor({ selfId, state: c.swarm.state, intents: c.swarm.intents, store: c.store, puller: c.puller, clock: c.clock, log: c.log, publishSoon }, {
    graceMs: cfg.graceMs,
    get maxCache () { return maxCache() },
    get minFreeDisk () { return minFree() }
  })
  c.swarm.setPolicyFacts(() => ({
    keep: actor.keep().map(k => ({ name: k.name, manifestDigest: new Uint8Array(Buffer.from(digestHex(k.digest), 'hex')) })),
    jobs: jobs.progress(),
    maxCache: BigInt(maxCache()),
    minFreeDisk: BigInt(minFree())
  }))
  // Records of others carry their keep claims and job progress: a change may free a drop here.
  const off = c.swarm.state.onChange(() => { actor.kick() })
  const view = (): ControlView => ({ members: c.swarm.state.members(), intents: c.swarm.intents, selfId, graceMs: cfg.graceMs, now: Date.now() })
  const commit = async (writes: IntentWrite[]): Promise<void> => {
    const signed = []
    for (const w of writes) signed.push(await c.swarm.intents.write(w))
    if (signed.length > 0) await c.swarm.service.publishIntents(signed)
    actor.kick()
  }
  return {
    actor,
    jobs,
    view,
    commit,
    pullHere: async (model, signal) => {
      const job = createJob(view(), model, [selfId], false)
      await commit(job.writes)
      await waitForJob(jobs, job.id, c.clock, signal)
    },
    stop: async () => { off(); await actor.stop(); await jobs.stop() }
  }
}
