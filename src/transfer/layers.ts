import { chunkCount, type Layer, type PartialBlob } from '../store/index.js'
import { linkedController } from '../util/abort.js'

export interface LayerProgress { completed: number, total: number }

export interface LayerFetchInit {
  /** The model's missing layers, in the order the client hears of them. */
  layers: readonly Layer[]
  /** Whether the store has the layer now (another pull may publish a large one while this pull works on others). */
  have: (layer: Layer) => Promise<boolean>
  /** Joins the download of a layer (shared with other pulls that need it); none starts once `signal` has fired. */
  join: (layer: Layer, onProgress: ((p: LayerProgress) => void) | undefined, signal: AbortSignal) => Promise<PartialBlob>
  progress: (layer: Layer, p: LayerProgress) => void
  /** A layer is verified and waits for the rest of the model; called before `fetchLayers` settles, even when it fails. */
  staged: (p: PartialBlob) => void
  signal: AbortSignal
}

/**
 * Downloads a model's missing layers. Layers of one chunk (config, template, license, params)
 * all start at once; larger layers go one after another, so a pull holds one large download's
 * chunk buffers at a time. Why: fetched after a large layer, each small one started at the very
 * end of the pull and waited behind its holders' busy upload slots, 0.01-0.76 s each in an
 * 8-host pull (docs/benchmarks.md). The first failure stops every layer and is what this throws.
 */
export async function fetchLayers (o: LayerFetchInit): Promise<void> {
  const { ac, release } = linkedController(o.signal)
  let failure: unknown
  const fail = (e: unknown): never => {
    failure ??= e
    ac.abort(failure)
    throw failure
  }
  const small = new Map<string, Promise<PartialBlob>>()
  for (const l of o.layers) {
    if (chunkCount(l.size) > 1 || small.has(l.digest)) continue
    const p = o.join(l, undefined, ac.signal).then(p => { o.staged(p); return p }, fail)
    p.catch(() => {}) // awaited later, maybe after it failed
    small.set(l.digest, p)
  }
  const done = new Set<string>()
  try {
    for (const l of o.layers) {
      const early = small.get(l.digest)
      if (early !== undefined || done.has(l.digest)) {
        await early
        o.progress(l, { completed: l.size, total: l.size })
        continue
      }
      done.add(l.digest)
      if (await o.have(l)) { o.progress(l, { completed: l.size, total: l.size }); continue }
      o.staged(await o.join(l, p => { o.progress(l, p) }, ac.signal).catch(fail))
    }
  } finally {
    // Every small layer settles (and is staged, or not) before the caller cleans up.
    await Promise.allSettled(small.values())
    release()
  }
}
