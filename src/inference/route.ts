import type { Member } from '../cluster/index.js'
import { nameKey, parseModelName } from '../store/index.js'

/** Without an estimate (no GGUF metadata yet): the size plus room for the KV cache and buffers. */
const VRAM_MARGIN = 1.2

const keyOf = (name: string): string | undefined => { try { return nameKey(parseModelName(name)) } catch { return undefined } }
const freeVram = (m: Member): number => m.record.gpus.reduce((s, g) => s + Number(g.memoryFree), 0)

/**
 * The nodes to try for a model, best first: one that has it loaded, then one that holds it and
 * has the free VRAM for it, then any other holder, then the node with the most free VRAM (which
 * fetches it first). Only live nodes whose Ollama answers; this node first on ties.
 */
export function candidates (members: readonly Member[], model: string): Member[] {
  const key = keyOf(model)
  if (key === undefined) return []
  const live = members.filter(m => m.liveness !== 'gone' && (m.record.ollamaUp || m.self))
  // The holders' estimate (weights, KV cache, graph; see vram.ts), else the size with a margin.
  const copies = live.flatMap(m => m.record.models.filter(h => keyOf(h.name) === key))
  const need = Math.max(0, ...copies.map(h => Number(h.vramEstimate) > 0 ? Number(h.vramEstimate) : Number(h.size) * VRAM_MARGIN))
  const loaded = (m: Member): boolean => m.record.loaded.some(l => keyOf(l.name) === key)
  const holds = (m: Member): boolean => m.record.models.some(h => keyOf(h.name) === key)
  const tier = (m: Member): number => loaded(m) ? 0 : holds(m) && freeVram(m) >= need ? 1 : holds(m) ? 2 : 3
  return [...live].sort((a, b) =>
    tier(a) - tier(b) ||
    Number(b.liveness === 'alive') - Number(a.liveness === 'alive') ||
    (tier(a) === 3 ? freeVram(b) - freeVram(a) : 0) ||
    Number(b.self) - Number(a.self) ||
    freeVram(b) - freeVram(a) ||
    (a.peerId < b.peerId ? -1 : 1))
}

/** Whether any node of the cluster holds the model. */
export const heldAnywhere = (members: readonly Member[], model: string): boolean => {
  const key = keyOf(model)
  return key !== undefined && members.some(m => m.liveness !== 'gone' && m.record.models.some(h => keyOf(h.name) === key))
}
