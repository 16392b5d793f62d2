import { createHash } from 'node:crypto'
import { MAX_SMALL_BLOB_BYTES, modelDetails, parseDigest, parseManifest, type ModelConfig, type ModelDetails, type ModelEntry } from '../store/index.js'
import type { SwarmAccess } from '../transfer/index.js'

/** Manifests whose details are kept; they are content-addressed, so an answer never goes stale. */
const MAX_KEPT = 1000
const FETCH_TIMEOUT_MS = 10_000

/**
 * The details (`format`, `family`, quantization, ...) of models held only on other nodes, read
 * once from a holder: the manifest by its digest, then the config blob it names, both checked
 * against their sha256. A lookup waits at most `waitMs` and answers undefined until it is known.
 */
export interface RemoteDetails {
  get: (manifestHex: string, holders: readonly string[], waitMs: number) => Promise<ModelDetails | undefined>
}

export function createRemoteDetails (swarm: Pick<SwarmAccess, 'client'>): RemoteDetails {
  const known = new Map<string, Promise<ModelDetails | undefined>>()
  const read = async (manifestHex: string, holders: readonly string[]): Promise<ModelDetails | undefined> => {
    const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS)
    for (const peer of holders) {
      try {
        const bytes = await swarm.client.manifest(peer, parseDigest(`sha256:${manifestHex}`), { signal })
        if (bytes === undefined) continue
        const manifest = parseManifest(bytes)
        if (manifest.config.size > MAX_SMALL_BLOB_BYTES) return undefined
        const raw = Buffer.from(await swarm.client.chunk(peer, manifest.config.digest, 0, manifest.config.size, { signal }))
        if (`sha256:${createHash('sha256').update(raw).digest('hex')}` !== manifest.config.digest) continue
        const cfg = JSON.parse(raw.toString('utf8')) as unknown
        if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) return undefined
        return modelDetails({ manifest } as ModelEntry, cfg as ModelConfig)
      } catch {}
    }
    return undefined
  }
  return {
    get: async (manifestHex, holders, waitMs) => {
      let p = known.get(manifestHex)
      if (p === undefined) {
        if (known.size >= MAX_KEPT) known.clear()
        p = read(manifestHex, holders)
        known.set(manifestHex, p)
        // A failed read is tried again by the next lookup.
        void p.then(d => { if (d === undefined) known.delete(manifestHex) })
      }
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<undefined>(resolve => { timer = setTimeout(() => { resolve(undefined) }, waitMs) })
      try { return await Promise.race([p, late]) } finally { clearTimeout(timer) }
    }
  }
}
