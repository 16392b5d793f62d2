import { OllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import type { RateLimiter } from '../util/rate-limit.js'
import type { RegistryClient } from '../registry/index.js'
import type { Store, ModelName, PartialBlob, Layer } from '../store/index.js'
import { digestHex } from '../store/index.js'
import { createInOrderHasher } from './hasher.js'
import { fetchFromRegistry, type FetchTuning } from './registry-source.js'
import { throttle } from '../util/throttle.js'
import { PROGRESS_INTERVAL_MS } from './constants.js'

export interface BlobDownloadComponents {
  store: Store
  registry: RegistryClient
  clock: Clock
  limiter: RateLimiter
}

export interface BlobDownloadOptions extends FetchTuning {
  name: ModelName
  layer: Layer
  insecure?: boolean
  signal?: AbortSignal
  onProgress: (completed: number, total: number) => void
  /** Sees the partial while it is being filled, and each chunk as it lands. */
  onOpen?: (partial: PartialBlob) => void
  onChunk?: (index: number) => void
}

/**
 * Brings one blob into a verified partial: resumes what is on disk, fetches the rest, and checks
 * the whole-blob sha256. A mismatch discards the data, so the next try starts clean.
 */
export async function downloadBlob (c: BlobDownloadComponents, o: BlobDownloadOptions): Promise<PartialBlob> {
  const partial = await c.store.openPartial(o.layer.digest, o.layer.size)
  o.onOpen?.(partial)
  try {
    const hasher = createInOrderHasher(partial)
    hasher.kick()
    // Progress lines go out at most every 100 ms, as Ollama's do every 60 ms.
    const report = throttle(c.clock, PROGRESS_INTERVAL_MS, () => { o.onProgress(partial.bytesDone(), o.layer.size) })
    o.onProgress(partial.bytesDone(), o.layer.size)
    await fetchFromRegistry({
      ...o,
      registry: c.registry,
      clock: c.clock,
      limiter: c.limiter,
      partial,
      onBytes: report,
      onChunk: (i) => { hasher.kick(); o.onChunk?.(i) }
    }).finally(() => { report.cancel() })
    o.onProgress(o.layer.size, o.layer.size)
    const got = await hasher.finish()
    if (got !== digestHex(o.layer.digest)) {
      await partial.discard()
      throw new OllamadError('DIGEST_MISMATCH', `digest mismatch, file must be downloaded again: want ${o.layer.digest}, got sha256:${got}`)
    }
    return partial
  } catch (e) {
    await partial.close()
    throw e
  }
}
