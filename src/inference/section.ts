import type { RecordSections } from '../cluster/index.js'
import { cachedFor } from '../util/cached.js'
import type { Clock } from '../util/clock.js'
import type { GpuReader } from './gpu.js'
import { readLoaded } from './loaded.js'
import type { OllamaUpstream } from './upstream.js'

/** GPUs and Ollama are asked at most this often: records go out far more often. */
const READ_EVERY_MS = 2_000

export interface InferenceSectionComponents {
  sections: RecordSections
  gpus: GpuReader
  upstream: OllamaUpstream
  clock: Clock
}

export interface InferenceSection {
  /** Reads GPUs and loaded models again now and sends the record (after a load or an unload). */
  refresh: () => void
}

/** Adds what this node can serve to its record: GPUs with their VRAM, the models Ollama has loaded, and whether Ollama answers. */
export function addInferenceSection (c: InferenceSectionComponents): InferenceSection {
  const facts = cachedFor(c.clock, READ_EVERY_MS, async () => await Promise.all([c.gpus.read(), readLoaded(c.upstream)]))
  c.sections.add('inference', async () => {
    const [gpus, ps] = await facts.get()
    return {
      gpus: gpus.map(g => ({ index: g.index, name: g.name, memoryTotal: BigInt(g.memoryTotal), memoryUsed: BigInt(g.memoryUsed), memoryFree: BigInt(g.memoryFree), utilization: g.utilization })),
      loaded: ps.loaded.map(l => ({ name: l.name, size: BigInt(l.size), sizeVram: BigInt(l.sizeVram), expiresAt: l.expiresAt, digest: l.digest })),
      ollamaUp: ps.up
    }
  })
  return { refresh: () => { facts.invalidate(); c.sections.changed() } }
}
