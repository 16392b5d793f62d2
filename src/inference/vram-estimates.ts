import { MEDIA, parseDigest, readGguf, type ModelEntry, type Store } from '../store/index.js'
import { estimateVram } from './vram.js'

export interface VramEstimatesComponents {
  store: Pick<Store, 'layout'>
  /** An estimate became known (the record that carries it should go out again). */
  onEstimate: () => void
}

/**
 * The VRAM each model needs, by manifest digest: read from its GGUF header once, in the
 * background; 0 until known (or when the model has no GGUF layer).
 */
export function createVramEstimates (c: VramEstimatesComponents): (m: ModelEntry) => number {
  const estimates = new Map<string, number>()
  return (m) => {
    const have = estimates.get(m.digest)
    if (have !== undefined) return have
    estimates.set(m.digest, 0)
    const layer = m.manifest.layers.find(l => l.mediaType === MEDIA.model)
    if (layer !== undefined) {
      void readGguf(c.store.layout.blob(parseDigest(layer.digest)))
        .then(info => { estimates.set(m.digest, estimateVram(info, layer.size).total); c.onEstimate() }, () => {})
    }
    return 0
  }
}
