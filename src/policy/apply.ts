import { OllamadError } from '../errors.js'
import { MAX_REPLICAS } from '../cluster/index.js'
import { intentKey, intentValue, parseIntent, type IntentBody } from '../cluster/index.js'
import { clusterModel, resolveNode, type ControlView, type IntentWrite } from './control.js'
import { parseSize } from '../util/rate-limit.js'

/**
 * A desired-state file, as JSON (the CLI reads YAML into this):
 *   models:
 *     llama3.2: { replicas: 2 | all, pins: [node, ...], nodes: [node, ...] }
 * For each listed model the file is the whole truth: replicas set, pins exactly those listed,
 * and `nodes` a fixed placement. Only differences are written, so applying it twice changes
 * nothing the second time.
 */
export interface Change { key: string, from: unknown, to: unknown }

const bad = (msg: string): OllamadError => new OllamadError('INVALID_REQUEST', `apply: ${msg}`)

export function applySpec (v: ControlView, spec: Record<string, unknown>): { changes: Change[], writes: IntentWrite[] } {
  for (const k of Object.keys(spec)) if (k !== 'models' && k !== 'limits') throw bad(`unknown section ${JSON.stringify(k.slice(0, 60))} (expected "models" or "limits")`)
  const models = spec.models ?? {}
  if (typeof models !== 'object' || models === null || Array.isArray(models)) throw bad('"models" must be a map of model name to settings')
  const changes: Change[] = []
  const writes: IntentWrite[] = []
  const want = (body: IntentBody | undefined, key: string): void => {
    // Every write is checked before any is made: a bad file changes nothing.
    if (body !== undefined) parseIntent(key, intentValue(body))
    const cur = v.intents.get(key)?.body
    const same = JSON.stringify(cur ?? null) === JSON.stringify(body ?? null)
    if (same) return
    changes.push({ key, from: cur ?? null, to: body ?? null })
    writes.push(body ?? { tombstone: key })
  }
  for (const [name, raw] of Object.entries(models as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`settings of ${name} must be a map`)
    const s = raw as Record<string, unknown>
    for (const k of Object.keys(s)) if (!['replicas', 'pins', 'nodes'].includes(k)) throw bad(`unknown setting ${JSON.stringify(k.slice(0, 60))} for ${name}`)
    const m = clusterModel(v.members, name)
    if (s.replicas !== undefined) {
      const r = s.replicas
      if (r !== 'all' && !(Number.isInteger(r) && (r as number) >= 1 && (r as number) <= MAX_REPLICAS)) throw bad(`replicas of ${name} must be 1 to ${MAX_REPLICAS} or "all"`)
      want({ kind: 'replicas', model: m.key, replicas: r as number | 'all' }, `replicas/${m.key}`)
    }
    const list = (k: 'pins' | 'nodes'): string[] | undefined => {
      const l = s[k]
      if (l === undefined) return undefined
      if (!Array.isArray(l) || !l.every(x => typeof x === 'string')) throw bad(`${k} of ${name} must be a list of node names`)
      return [...new Set((l as string[]).map(n => resolveNode(v.members, n).peerId))]
    }
    const pins = list('pins')
    if (pins !== undefined) {
      const current = v.intents.bodies('pin').filter(p => p.model === m.key).map(p => p.node)
      for (const n of pins) want({ kind: 'pin', model: m.key, node: n }, `pin/${m.key}/${n}`)
      for (const n of current) if (!pins.includes(n)) want(undefined, `pin/${m.key}/${n}`)
    }
    const nodes = list('nodes')
    if (nodes !== undefined) {
      const body: IntentBody = { kind: 'placement', model: m.key, nodes: [...nodes].sort() }
      const cur = v.intents.get(intentKey(body))?.body
      const curNodes = cur?.kind === 'placement' ? [...cur.nodes].sort() : undefined
      if (JSON.stringify(curNodes) !== JSON.stringify(body.nodes)) want(body, intentKey(body))
    }
  }
  applyLimits(v, spec.limits, want)
  return { changes, writes }
}

/** `limits: { '*': {max_cache: 500G, min_free_disk: 50G}, gpu-01: {...} }`: sizes as the flags take them. */
function applyLimits (v: ControlView, raw: unknown, want: (body: IntentBody | undefined, key: string) => void): void {
  if (raw === undefined) return
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('"limits" must be a map of node name (or "*") to limits')
  for (const [node, l] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof l !== 'object' || l === null || Array.isArray(l)) throw bad(`limits of ${node} must be a map`)
    const s = l as Record<string, unknown>
    for (const k of Object.keys(s)) if (k !== 'max_cache' && k !== 'min_free_disk') throw bad(`unknown limit ${JSON.stringify(k.slice(0, 60))} for ${node}`)
    const size = (k: string): number => {
      const x = s[k]
      if (x === undefined) return 0
      try { return typeof x === 'number' ? x : parseSize(String(x)) } catch { throw bad(`${k} of ${node} must be a size such as 500G`) }
    }
    const id = node === '*' ? '*' : resolveNode(v.members, node).peerId
    want({ kind: 'limits', node: id, maxCache: size('max_cache'), minFreeDisk: size('min_free_disk') }, `limits/${id}`)
  }
}
