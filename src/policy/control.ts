import { randomBytes } from 'node:crypto'
import type { IntentBody, IntentStore, Member } from '../cluster/index.js'
import { MAX_REPLICAS } from '../cluster/index.js'
import { OllamadError } from '../errors.js'
import { fullName, modelKey, parseModelName } from '../store/index.js'
import { plan, roomOf } from './plan.js'
import { clusterModels, planInput, planNodes } from './view.js'
import { JOB_TTL_MS, type JobState } from './jobs.js'

/**
 * The operator's commands, turned into intents after checking them against the cluster view.
 * Nothing here writes: each returns what to write, so bad input changes nothing.
 */
export interface ControlView {
  members: Member[]
  intents: IntentStore
  selfId: string
  graceMs: number
  now: number
}

export type IntentWrite = IntentBody | { tombstone: string }

/** A node by name or peer id (names are unique among live nodes; ids always). */
export function resolveNode (members: Member[], ref: string): Member {
  const byId = members.find(m => m.peerId === ref)
  if (byId !== undefined) return byId
  const named = members.filter(m => m.record.name === ref && m.liveness !== 'gone')
  if (named.length === 1) return named[0] as Member
  if (named.length > 1) throw new OllamadError('CONFLICT', `${named.length} live nodes are named ${JSON.stringify(ref)}: use a peer id`)
  throw new OllamadError('NODE_NOT_FOUND', `no node named ${JSON.stringify(ref.slice(0, 100))} in the cluster`)
}

/** A model's canonical key, or INVALID_NAME. */
function keyOrRefuse (raw: string): string {
  const key = modelKey(raw)
  if (key === undefined) throw new OllamadError('INVALID_NAME', `invalid model name ${JSON.stringify(raw.slice(0, 200))}`)
  return key
}

/** The canonical key of a model held somewhere in the cluster. */
export function clusterModel (members: Member[], raw: string): { key: string, digest: string, size: number, name: string } {
  const key = keyOrRefuse(raw)
  const m = clusterModels(members).get(key)
  if (m === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${raw}' is not held by any node in the cluster`)
  return { key, digest: m.digest, size: m.size, name: m.name }
}

/** Undoes a cluster deletion when the operator asks for the model again. */
const undelete = (v: ControlView, key: string): IntentWrite[] => v.intents.get(`delete/${key}`)?.body !== undefined ? [{ tombstone: `delete/${key}` }] : []

export function replicate (v: ControlView, model: string, replicas: unknown): IntentWrite[] {
  if (replicas !== 'all' && !(Number.isInteger(replicas) && (replicas as number) >= 1 && (replicas as number) <= MAX_REPLICAS)) {
    throw new OllamadError('INVALID_REQUEST', `replicas must be a whole number from 1 to ${MAX_REPLICAS}, or "all"`)
  }
  const m = clusterModel(v.members, model)
  return [...undelete(v, m.key), { kind: 'replicas', model: m.key, replicas: replicas as number | 'all' }]
}

export function pin (v: ControlView, model: string, node: string, on: boolean): IntentWrite[] {
  const m = clusterModel(v.members, model)
  const n = resolveNode(v.members, node)
  if (on) {
    const self = planNodes([n], v.now, v.graceMs)[0]
    if (self !== undefined && !self.models.has(m.key) && roomOf(self) < m.size) throw new OllamadError('NO_ROOM', `${n.record.name} has no room for ${m.name} (${m.size} bytes)`)
    return [...undelete(v, m.key), { kind: 'pin', model: m.key, node: n.peerId }]
  }
  return [{ tombstone: `pin/${m.key}/${n.peerId}` }]
}

export function migrate (v: ControlView, model: string, from: string, to: string): IntentWrite[] {
  const m = clusterModel(v.members, model)
  const src = resolveNode(v.members, from)
  const dst = resolveNode(v.members, to)
  if (src.peerId === dst.peerId) throw new OllamadError('INVALID_REQUEST', 'a migration needs two different nodes')
  const [s, d] = planNodes([src, dst], v.now, v.graceMs) as [ReturnType<typeof planNodes>[number], ReturnType<typeof planNodes>[number]]
  if (s.models.get(m.key)?.digest !== m.digest) throw new OllamadError('MODEL_NOT_FOUND', `${src.record.name} does not hold ${m.name}`)
  if (dst.liveness !== 'alive') throw new OllamadError('INVALID_REQUEST', `${dst.record.name} is ${dst.liveness}`)
  if (!d.models.has(m.key) && roomOf(d) < m.size) throw new OllamadError('NO_ROOM', `${dst.record.name} has no room for ${m.name} (${m.size} bytes)`)
  return [{ kind: 'migrate', model: m.key, from: src.peerId, to: dst.peerId }]
}

/**
 * Deletes the model everywhere by the manifest digests that nodes hold now (a node that is down
 * included): a copy at one of them goes, wherever and whenever it shows; a copy pulled or
 * restored later at another digest stays, and once no record shows one of them the delete is settled.
 */
export function clusterDelete (v: ControlView, model: string): IntentWrite[] {
  const m = clusterModel(v.members, model)
  const digests = new Set<string>()
  for (const member of v.members) {
    for (const h of member.record.models) if (modelKey(h.name) === m.key) digests.add(Buffer.from(h.manifestDigest).toString('hex'))
  }
  return [{ kind: 'delete', model: m.key, digests: [...digests].sort().slice(0, 64) }]
}

export interface Move { model: string, from?: string, to?: string, bytes: number }

/** The ideal spread (no stickiness) against where models are now: moves, and the placements that reach it. */
export function rebalance (v: ControlView): { moves: Move[], writes: IntentWrite[] } {
  const names = new Map(v.members.map(m => [m.peerId, m.record.name]))
  const input = planInput(v.members, v.intents, v.now, v.graceMs, false)
  const ideal = plan(input)
  const models = clusterModels(v.members)
  const moves: Move[] = []
  const writes: IntentWrite[] = []
  for (const p of ideal) {
    if (p.replicas === 0) continue
    const holders = input.nodes.filter(n => n.liveness !== 'gone' && n.models.get(p.model)?.digest === p.digest).map(n => n.id)
    const out = holders.filter(h => !p.targets.includes(h))
    const into = p.targets.filter(t => !holders.includes(t))
    if (out.length === 0 && into.length === 0) continue
    const name = models.get(p.model)?.name ?? p.model
    for (let i = 0; i < Math.max(out.length, into.length); i++) {
      const from = out[i]
      const to = into[i]
      moves.push({ model: name, from: from !== undefined ? names.get(from) : undefined, to: to !== undefined ? names.get(to) : undefined, bytes: to !== undefined ? p.size : 0 })
    }
    writes.push({ kind: 'placement', model: p.model, nodes: p.targets })
  }
  return { moves, writes }
}

export interface JobNode { id: string, name: string, state: JobState | 'unknown', completed: number, total: number, error?: string }
export interface JobView { id: string, model: string, created_at: string, cancelled: boolean, state: string, nodes: JobNode[] }

/** A job as any node sees it: its intent, and each target's progress from that target's own record. */
export function jobView (v: ControlView, id: string): JobView | undefined {
  const job = v.intents.bodies('job').find(j => j.id === id)
  if (job === undefined || v.now - job.createdAt > JOB_TTL_MS) return undefined
  const nodes: JobNode[] = job.targets.map(t => {
    const m = v.members.find(x => x.peerId === t)
    const p = m?.record.jobs.find(j => j.id === id)
    if (p === undefined) return { id: t, name: m?.record.name ?? t, state: job.cancelled ? 'cancelled' : m?.liveness === 'gone' ? 'unknown' : 'pending', completed: 0, total: 0 }
    return { id: t, name: m?.record.name ?? t, state: p.state as JobState, completed: Number(p.completed), total: Number(p.total), ...(p.error !== '' ? { error: p.error } : {}) }
  })
  const states = new Set(nodes.map(n => n.state))
  const state = job.cancelled ? 'cancelled' : [...states].every(s => s === 'completed') ? 'completed' : states.has('error') && [...states].every(s => s === 'completed' || s === 'error') ? 'error' : 'running'
  return { id, model: displayModel(job.model), created_at: new Date(job.createdAt).toISOString(), cancelled: job.cancelled, state, nodes }
}

const displayModel = (key: string): string => fullName(parseModelName(key))

export function listJobs (v: ControlView): JobView[] {
  return v.intents.bodies('job').map(j => jobView(v, j.id)).filter((j): j is JobView => j !== undefined)
    .sort((a, b) => a.created_at < b.created_at ? 1 : -1)
}

/** A pull to named nodes or to all live nodes; the same model and targets while one runs answers that job. */
export function createJob (v: ControlView, model: string, nodes: unknown, insecure: boolean): { id: string, writes: IntentWrite[], existing: boolean } {
  const key = keyOrRefuse(model)
  let targets: string[]
  if (nodes === 'all' || nodes === undefined) {
    targets = v.members.filter(m => m.liveness === 'alive').map(m => m.peerId)
  } else if (Array.isArray(nodes) && nodes.length > 0 && nodes.every(n => typeof n === 'string')) {
    targets = [...new Set((nodes as string[]).map(n => resolveNode(v.members, n).peerId))]
  } else {
    throw new OllamadError('INVALID_REQUEST', 'field "nodes" must be "all" or a list of node names')
  }
  targets.sort()
  for (const j of listJobs(v)) {
    const body = v.intents.bodies('job').find(b => b.id === j.id)
    if (body !== undefined && body.model === key && j.state === 'running' && body.targets.slice().sort().join() === targets.join()) return { id: j.id, writes: [], existing: true }
  }
  const id = randomBytes(8).toString('hex')
  return { id, existing: false, writes: [...undelete(v, key), { kind: 'job', id, model: key, targets, insecure, createdAt: v.now, cancelled: false }] }
}

export function cancelJob (v: ControlView, id: string): IntentWrite[] {
  const job = v.intents.bodies('job').find(j => j.id === id)
  if (job === undefined) throw new OllamadError('JOB_NOT_FOUND', `no job ${JSON.stringify(id.slice(0, 40))}`)
  return job.cancelled ? [] : [{ ...job, cancelled: true }]
}
