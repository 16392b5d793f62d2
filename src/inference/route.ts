import type { Member } from '../cluster/index.js'
import { modelKey } from '../store/index.js'

/** Without an estimate (no GGUF metadata yet): the size plus room for the KV cache and buffers. */
const VRAM_MARGIN = 1.2

const freeVram = (m: Member): number => m.record.gpus.reduce((s, g) => s + Number(g.memoryFree), 0)

/**
 * The nodes to try for a model, best first: one that has it loaded, then one that holds it and
 * has the free VRAM for it, then any other holder, then the node with the most free VRAM (which
 * fetches it first). Only live nodes whose Ollama answers; this node first on ties.
 */
export function candidates (members: readonly Member[], model: string): Member[] {
  const key = modelKey(model)
  if (key === undefined) return []
  const live = members.filter(m => m.liveness !== 'gone' && (m.record.ollamaUp || m.self))
  // The holders' estimate (weights, KV cache, graph; see vram.ts), else the size with a margin.
  const copies = live.flatMap(m => m.record.models.filter(h => modelKey(h.name) === key))
  const need = Math.max(0, ...copies.map(h => Number(h.vramEstimate) > 0 ? Number(h.vramEstimate) : Number(h.size) * VRAM_MARGIN))
  // Each node's facts once, not in every comparison of the sort (this runs for every request).
  const facts = new Map(live.map(m => {
    const loaded = m.record.loaded.some(l => modelKey(l.name) === key)
    const holds = m.record.models.some(h => modelKey(h.name) === key)
    const vram = freeVram(m)
    return [m, { tier: loaded ? 0 : holds && vram >= need ? 1 : holds ? 2 : 3, vram }]
  }))
  const f = (m: Member): { tier: number, vram: number } => facts.get(m) as { tier: number, vram: number }
  return [...live].sort((a, b) =>
    f(a).tier - f(b).tier ||
    Number(b.liveness === 'alive') - Number(a.liveness === 'alive') ||
    (f(a).tier === 3 ? f(b).vram - f(a).vram : 0) ||
    Number(b.self) - Number(a.self) ||
    f(b).vram - f(a).vram ||
    (a.peerId < b.peerId ? -1 : 1))
}

/** Whether any node of the cluster holds the model. */
export const heldAnywhere = (members: readonly Member[], model: string): boolean => {
  const key = modelKey(model)
  return key !== undefined && members.some(m => m.liveness !== 'gone' && m.record.models.some(h => modelKey(h.name) === key))
}
