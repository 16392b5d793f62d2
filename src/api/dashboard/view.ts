import type { IntentStore, Member } from '../../cluster/index.js'
import { listJobs, type ControlView, type JobView } from '../../policy/index.js'
import { displayName, parseModelName } from '../../store/index.js'
import { clusterModels } from '../routes/cluster.js'

/** Jobs the dashboard shows: the newest first. */
const MAX_JOBS = 20

export interface DashboardNode {
  id: string
  name: string
  self: boolean
  liveness: string
  version: string
  ollama: 'up' | 'down'
  disk: { total: number, free: number }
  gpus: Array<{ name: string, total: number, used: number, free: number }>
  loaded: Array<{ name: string, vram: number }>
  /** Bytes a second, between this node's last two records. */
  rates: { from_peers: number, from_registry: number, to_peers: number }
  no_room: string[]
  last_update: number
}

/** One model at one digest; `cells` follows the order of `nodes`: 'c' complete, 'a' absent, a number is a partial's percent. */
export interface DashboardModel {
  name: string
  digest: string
  size: number
  replicas: number | 'all' | null
  cells: Array<'c' | 'a' | number>
  /** Indexes into `nodes` of the nodes it is pinned to. */
  pinned: number[]
}

export interface DashboardSnapshot {
  self: string
  at: number
  nodes: DashboardNode[]
  models: DashboardModel[]
  jobs: JobView[]
}

interface Sample { at: number, totals: [number, number, number] }

/** Rates from the cumulative byte counts in each node's records: the difference of its last two. */
export function createRateTracker (): (m: Member) => DashboardNode['rates'] {
  const seen = new Map<string, { last: Sample, rates: DashboardNode['rates'] }>()
  const zero = { from_peers: 0, from_registry: 0, to_peers: 0 }
  return (m) => {
    const t = m.record.transfer
    const s: Sample = { at: Number(m.record.writtenAt), totals: [Number(t?.fromPeers ?? 0n), Number(t?.fromRegistry ?? 0n), Number(t?.toPeers ?? 0n)] }
    const old = seen.get(m.peerId)
    if (old === undefined || s.at < old.last.at || s.totals.some((v, i) => v < (old.last.totals[i] as number))) {
      // First sight, or a restart (counters went back): no rate yet.
      seen.set(m.peerId, { last: s, rates: zero })
      return zero
    }
    if (s.at === old.last.at) return m.liveness === 'alive' ? old.rates : zero
    const per = (i: number): number => Math.round(((s.totals[i] as number) - (old.last.totals[i] as number)) * 1000 / (s.at - old.last.at))
    const rates = { from_peers: per(0), from_registry: per(1), to_peers: per(2) }
    seen.set(m.peerId, { last: s, rates })
    return rates
  }
}

const num = (b: bigint): number => Number(b)
const shown = (key: string): string => { try { return displayName(parseModelName(key)) } catch { return key } }

/** The whole dashboard in one compact object: 64 nodes by 200 models is 12,800 cells of a byte or three. */
export function dashboardSnapshot (v: ControlView, rates: (m: Member) => DashboardNode['rates']): DashboardSnapshot {
  const members = [...v.members].sort((a, b) => a.record.name === b.record.name ? (a.peerId < b.peerId ? -1 : 1) : a.record.name < b.record.name ? -1 : 1)
  const index = new Map(members.map((m, i) => [m.peerId, i]))
  const nodes = members.map((m): DashboardNode => {
    const r = m.record
    return {
      id: m.peerId,
      name: r.name,
      self: m.self,
      liveness: m.liveness,
      version: r.version,
      ollama: r.ollamaUp ? 'up' : 'down',
      disk: { total: num(r.diskTotal), free: num(r.diskFree) },
      gpus: r.gpus.map(g => ({ name: g.name, total: num(g.memoryTotal), used: num(g.memoryUsed), free: num(g.memoryFree) })),
      loaded: r.loaded.map(l => ({ name: l.name, vram: num(l.sizeVram) })),
      rates: rates(m),
      no_room: r.noRoom,
      last_update: m.lastRise
    }
  })
  const pins = pinsByModel(v.intents, index)
  const replicas = new Map(v.intents.bodies('replicas').map(b => [shown(b.model), b.replicas]))
  const models = clusterModels(members).map((e): DashboardModel => {
    const name = e.name as string
    const cells = (e.nodes as Array<{ coverage: string, percent: number }>).map(n => n.coverage === 'complete' ? 'c' as const : n.coverage === 'partial' ? n.percent : 'a' as const)
    return { name, digest: e.digest as string, size: e.size as number, replicas: replicas.get(name) ?? null, cells, pinned: pins.get(name) ?? [] }
  })
  const jobs = listJobs(v)
  addJobProgress(models, jobs, index, nodes.length, pins, replicas)
  return { self: v.selfId, at: v.now, nodes, models, jobs: jobs.slice(0, MAX_JOBS) }
}

/**
 * A model on its way shows before any node holds it whole: each target of a running job shows
 * the job's progress there, so the matrix fills as the pull spreads.
 */
function addJobProgress (models: DashboardModel[], jobs: JobView[], index: Map<string, number>, width: number, pins: Map<string, number[]>, replicas: Map<string, number | 'all'>): void {
  for (const j of jobs) {
    if (j.state !== 'running') continue
    const name = shown(j.model)
    let row = models.find(m => m.name === name)
    if (row === undefined) {
      row = { name, digest: '', size: Math.max(0, ...j.nodes.map(n => n.total)), replicas: replicas.get(name) ?? null, cells: new Array<'a'>(width).fill('a'), pinned: pins.get(name) ?? [] }
      models.push(row)
      models.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    }
    for (const n of j.nodes) {
      const i = index.get(n.id)
      if (i === undefined || n.total <= 0 || row.cells[i] === 'c') continue
      const pct = Math.min(99, Math.floor(100 * n.completed / n.total))
      row.cells[i] = Math.max(pct, typeof row.cells[i] === 'number' ? row.cells[i] : 0)
    }
  }
}

function pinsByModel (intents: IntentStore, index: Map<string, number>): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const p of intents.bodies('pin')) {
    const i = index.get(p.node)
    if (i === undefined) continue
    const name = shown(p.model)
    out.set(name, [...(out.get(name) ?? []), i].sort((a, b) => a - b))
  }
  return out
}
