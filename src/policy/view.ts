import type { IntentBody, IntentStore, Member } from '../cluster/index.js'
import { modelKey } from '../store/index.js'
import type { PlanInput, PlanIntents, PlanModel, PlanNode } from './plan.js'

const hex = (b: Uint8Array): string => `sha256:${Buffer.from(b).toString('hex')}`

/** The cluster's models with their current digest: the one most recently pulled anywhere. */
export function clusterModels (members: readonly Member[]): Map<string, PlanModel & { name: string, pulledAt: bigint }> {
  const out = new Map<string, PlanModel & { name: string, pulledAt: bigint }>()
  for (const m of members) {
    for (const h of m.record.models) {
      const key = modelKey(h.name)
      if (key === undefined) continue
      const cur = out.get(key)
      if (cur === undefined || h.pulledAt > cur.pulledAt || (h.pulledAt === cur.pulledAt && hex(h.manifestDigest) > cur.digest)) {
        out.set(key, { key, name: h.name, digest: hex(h.manifestDigest), size: Number(h.size), pulledAt: h.pulledAt })
      }
    }
  }
  return out
}

/** The intents that shape the plan, gathered by model. */
export function planIntents (intents: IntentStore): PlanIntents {
  const replicas = new Map<string, number | 'all'>()
  const pins = new Map<string, Set<string>>()
  const migrations = new Map<string, { from: string, to: string }>()
  const placements = new Map<string, string[]>()
  const deleted = new Set<string>()
  for (const b of intents.bodies() as IntentBody[]) {
    if (b.kind === 'replicas') replicas.set(b.model, b.replicas)
    else if (b.kind === 'pin') { const s = pins.get(b.model) ?? new Set(); s.add(b.node); pins.set(b.model, s) } else if (b.kind === 'migrate') migrations.set(b.model, { from: b.from, to: b.to })
    else if (b.kind === 'placement') placements.set(b.model, b.nodes)
    else if (b.kind === 'delete') deleted.add(b.model)
  }
  return { replicas, pins, migrations, placements, deleted }
}

/** Members as the plan sees them; `graceMs` is how long a silent node's copies keep counting. */
export function planNodes (members: readonly Member[], now: number, graceMs: number): PlanNode[] {
  return members.map(m => {
    const models = new Map<string, { digest: string, size: number }>()
    for (const h of m.record.models) {
      const key = modelKey(h.name)
      if (key !== undefined) models.set(key, { digest: hex(h.manifestDigest), size: Number(h.size) })
    }
    return {
      id: m.peerId,
      liveness: m.liveness,
      pastGrace: m.liveness === 'gone' && now - m.lastRise >= graceMs,
      diskTotal: Number(m.record.diskTotal),
      diskFree: Number(m.record.diskFree),
      maxCache: Number(m.record.maxCache),
      minFreeDisk: Number(m.record.minFreeDisk),
      models,
      noRoom: new Set(m.record.noRoom)
    }
  })
}

export function planInput (members: readonly Member[], intents: IntentStore, now: number, graceMs: number, sticky = true): PlanInput {
  return { nodes: planNodes(members, now, graceMs), models: [...clusterModels(members).values()], intents: planIntents(intents), sticky }
}

/**
 * Whether a member's record claims to keep this model at this digest, and shows it held there
 * (published, every blob complete). A claim alone could be made by a node that has nothing.
 */
export const claimsKeep = (m: Member, model: string, digest: string): boolean =>
  m.record.keep.some(k => modelKey(k.name) === model && hex(k.manifestDigest) === digest) &&
  m.record.models.some(h => modelKey(h.name) === model && hex(h.manifestDigest) === digest)

/** Whether a member's record shows this model at one of these manifest digests (hex). */
export const holdsAnyOf = (m: Member, model: string, digests: readonly string[]): boolean =>
  m.record.models.some(h => modelKey(h.name) === model && digests.includes(Buffer.from(h.manifestDigest).toString('hex')))
