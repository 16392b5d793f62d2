import { createHash } from 'node:crypto'

/**
 * The placement rule every node evaluates alike: for each model that has an intent, the nodes
 * that should hold it. Pure: the same input gives the same plan on every node. Safety does not
 * rest on that (views differ for a while); the act loop's keep-claim rule does.
 */

export type PlanLiveness = 'alive' | 'suspect' | 'gone'

export interface PlanNode {
  id: string
  liveness: PlanLiveness
  /** Gone for longer than the grace period: its copies no longer count. */
  pastGrace: boolean
  diskTotal: number
  diskFree: number
  /** --max-cache in bytes (0: none): models held may not pass it. */
  maxCache: number
  /** --min-free-disk in bytes (0: none): free space may not fall under it. */
  minFreeDisk: number
  /** Complete models held: model key -> manifest digest and size. */
  models: ReadonlyMap<string, { digest: string, size: number }>
  /** Models it said it has no room for (it tried and the disk was full): passed over for them. */
  noRoom?: ReadonlySet<string>
}

export interface PlanModel {
  key: string
  /** The current manifest digest (ARCHITECTURE.md, Names and manifests). */
  digest: string
  size: number
}

export interface PlanIntents {
  replicas: ReadonlyMap<string, number | 'all'>
  pins: ReadonlyMap<string, ReadonlySet<string>>
  migrations: ReadonlyMap<string, { from: string, to: string }>
  /** Target sets written by `rebalance`: forced in, like pins. */
  placements: ReadonlyMap<string, readonly string[]>
  deleted: ReadonlySet<string>
}

export interface PlanInput {
  nodes: readonly PlanNode[]
  models: readonly PlanModel[]
  intents: PlanIntents
  /** Keep current holders first (the default); `rebalance` computes the ideal spread without it. */
  sticky?: boolean
}

export interface Placement {
  model: string
  digest: string
  size: number
  /** How many copies are wanted (after `all` is resolved). */
  replicas: number
  /** The nodes that should hold it, in rank order. */
  targets: string[]
}

/** Room is weighed in steps this coarse, so small changes in free space move nothing. */
export const ROOM_STEP = 64 * 1024 ** 3

/** Bytes a node may still take for models, after its limits and what the plan already gave it. */
export function roomOf (n: PlanNode, planned = 0): number {
  const held = [...n.models.values()].reduce((s, m) => s + m.size, 0)
  const byDisk = n.diskFree - n.minFreeDisk
  const byCache = n.maxCache > 0 ? n.maxCache - held : Infinity
  return Math.min(byDisk, byCache) - planned
}

/** Rendezvous score of a node for a model, weighted by room in coarse steps: higher ranks first. */
export function rendezvous (nodeId: string, model: string, weight: number): number {
  const h = createHash('sha256').update(model).update('\0').update(nodeId).digest()
  // 52 bits as a uniform number in (0, 1); -w / ln(u) is the weighted rendezvous score.
  const u = (h.readUIntBE(0, 6) * 16 + (h[6] as number >> 4) + 0.5) / 2 ** 52
  return -weight / Math.log(u)
}

const weightOf = (n: PlanNode): number => Math.max(1, Math.round(Math.max(0, n.diskTotal - n.minFreeDisk) / ROOM_STEP))

/** Whether a node holds the model's current digest complete. */
const holds = (n: PlanNode, m: PlanModel): boolean => n.models.get(m.key)?.digest === m.digest

/** Every model that has an intent, placed; models without one are left where they are. */
export function plan (input: PlanInput): Placement[] {
  const { intents } = input
  const sticky = input.sticky ?? true
  const byId = new Map(input.nodes.map(n => [n.id, n]))
  const alive = input.nodes.filter(n => n.liveness === 'alive')
  // A node's copies count while it is alive, suspect, or gone within the grace period.
  const counts = (n: PlanNode): boolean => !n.pastGrace
  const planned = new Map<string, number>()
  const out: Placement[] = []
  const models = [...input.models].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  for (const m of models) {
    const want = intents.replicas.get(m.key)
    const pins = intents.pins.get(m.key) ?? new Set<string>()
    const migration = intents.migrations.get(m.key)
    const placement = intents.placements.get(m.key)
    if (intents.deleted.has(m.key)) { out.push({ model: m.key, digest: m.digest, size: m.size, replicas: 0, targets: [] }); continue }
    if (want === undefined && pins.size === 0 && migration === undefined && placement === undefined) continue
    const holders = input.nodes.filter(n => counts(n) && holds(n, m))
    // Without a count, pins and migrations add to (or move) the copies that exist now.
    let replicas = want === 'all' ? Math.max(1, alive.length) : want ?? 0
    const score = (n: PlanNode): number => rendezvous(n.id, m.key, weightOf(n))
    const ranked = (ns: PlanNode[]): PlanNode[] => [...ns].sort((a, b) => score(b) - score(a) || (a.id < b.id ? -1 : 1))
    const fits = (n: PlanNode): boolean => holds(n, m) || (n.noRoom?.has(m.key) !== true && roomOf(n, planned.get(n.id) ?? 0) >= m.size)
    const targets: string[] = []
    const add = (n: PlanNode): void => {
      if (targets.includes(n.id)) return
      targets.push(n.id)
      if (!holds(n, m)) planned.set(n.id, (planned.get(n.id) ?? 0) + m.size)
    }
    const excluded = new Set<string>(migration !== undefined ? [migration.from] : [])
    // Forced in: pins, a migration's target, a rebalance placement; only nodes whose copies count.
    const forced = [...pins, ...(migration !== undefined ? [migration.to] : []), ...(placement ?? [])]
    for (const id of forced) {
      const n = byId.get(id)
      if (n !== undefined && counts(n) && !excluded.has(id) && fits(n)) add(n)
    }
    if (want === undefined) {
      for (const n of ranked(holders)) if (!excluded.has(n.id)) add(n)
      replicas = Math.max(1, targets.length)
    }
    if (sticky) for (const n of ranked(holders)) if (targets.length < replicas && !excluded.has(n.id)) add(n)
    for (const n of ranked(alive)) {
      if (targets.length >= replicas) break
      if (!excluded.has(n.id) && fits(n)) add(n)
    }
    // With stickiness off (rebalance), holders still fill what the ideal spread could not place.
    if (!sticky) for (const n of ranked(holders)) if (targets.length < replicas && !excluded.has(n.id)) add(n)
    out.push({ model: m.key, digest: m.digest, size: m.size, replicas, targets })
  }
  return out
}
