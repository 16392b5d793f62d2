import { statfs } from 'node:fs/promises'
import type { P2pNode } from './p2p/index.js'
import type { NodeFacts } from './cluster/index.js'
import { digestHex, fullName, manifestBlobs, parseDigest, MEDIA, type Store, type ModelEntry, type ChunkMapStore } from './store/index.js'
import { readGguf } from './store/gguf.js'
import { estimateVram } from './inference/vram.js'
import type { Puller } from './transfer/index.js'
import { readLoaded, type GpuReader, type OllamaUpstream } from './inference/index.js'
import { VERSION } from './version.js'
import { Bitmap } from './util/bitmap.js'

export interface FactsComponents {
  node: P2pNode
  store: Store
  puller: Puller
  upstream: OllamaUpstream
  gpus: GpuReader
  name: string
  apiUrl: () => string
  maps: ChunkMapStore
  /** What the policy loop adds: keep claims, job progress, cache limits (set once it runs). */
  policy?: () => PolicyFacts
  /** A VRAM estimate became known: the record should go out again. */
  onEstimate?: () => void
}

export type PolicyFacts = Pick<NodeFacts, 'keep' | 'jobs' | 'maxCache' | 'minFreeDisk'>

const NO_POLICY: PolicyFacts = { keep: [], jobs: [], maxCache: 0n, minFreeDisk: 0n }

const SLOW_FACTS_MS = 2_000

const hexBytes = (hex: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(hex, 'hex'))

/** Gathers what this node's record says about it: disk, GPUs, loaded models, models and blobs held. */
export function createFactsSource (c: FactsComponents): (() => Promise<NodeFacts>) & { invalidate: () => void } {
  // Disk, GPUs and Ollama are read at most every few seconds: records go out far more often.
  let slow: { at: number, value: Promise<[Awaited<ReturnType<typeof statfs>> | undefined, Awaited<ReturnType<GpuReader['read']>>, Awaited<ReturnType<typeof readLoaded>>]> } | undefined
  const slowFacts = async (): Promise<NonNullable<typeof slow>['value']> => {
    if (slow === undefined || Date.now() - slow.at > SLOW_FACTS_MS) {
      slow = { at: Date.now(), value: Promise.all([statfs(c.store.layout.root).catch(() => undefined), c.gpus.read(), readLoaded(c.upstream)]) }
    }
    return await slow.value
  }
  // VRAM estimates, by manifest digest: read from the GGUF header once, in the background.
  const estimates = new Map<string, number>()
  const estimate = (m: ModelEntry): number => {
    const have = estimates.get(m.digest)
    if (have !== undefined) return have
    estimates.set(m.digest, 0)
    const layer = m.manifest.layers.find(l => l.mediaType === MEDIA.model)
    if (layer !== undefined) {
      void readGguf(c.store.layout.blob(parseDigest(layer.digest)))
        .then(info => { estimates.set(m.digest, estimateVram(info, layer.size).total); c.onEstimate?.() }, () => {})
    }
    return 0
  }
  return Object.assign(async () => {
    const [fs, gpus, ps] = await slowFacts()
    const models = c.store.list()
    const blobs = new Map<string, NodeFacts['blobs'][number]>()
    for (const m of models) {
      for (const l of manifestBlobs(m.manifest)) {
        const cid = c.maps.cid(l.digest)
        blobs.set(l.digest, { digest: hexBytes(digestHex(l.digest)), size: BigInt(l.size), complete: true, bitmap: new Uint8Array(0), chunkMap: cid !== undefined ? new Uint8Array(cid) : new Uint8Array(0), announced: [], arriving: new Uint8Array(0) })
      }
    }
    for (const p of c.puller.partials()) {
      if (blobs.has(p.digest)) continue
      // Chunks taken from the registry are announced with their sha256, so peers can take them
      // before any chunk map exists (only those this node still holds).
      const announced = [...(c.puller.announced(p.digest) ?? [])].filter(([i]) => p.bitmap.get(i)).map(([index, sha256]) => ({ index, sha256: new Uint8Array(sha256) }))
      const cid = c.maps.cid(p.digest)
      // Chunks on their way here, which peers may take as they come (relayed).
      const coming = c.puller.arrivals.arriving(p.digest).filter(i => i < p.bitmap.length && !p.bitmap.get(i))
      const arriving = new Bitmap(p.bitmap.length)
      for (const i of coming) arriving.set(i)
      blobs.set(p.digest, { digest: hexBytes(digestHex(p.digest)), size: BigInt(p.size), complete: false, bitmap: new Uint8Array(p.bitmap.bytes), chunkMap: cid !== undefined ? new Uint8Array(cid) : new Uint8Array(0), announced, arriving: coming.length > 0 ? new Uint8Array(arriving.bytes) : new Uint8Array(0) })
    }
    return {
      name: c.name,
      addrs: c.node.getMultiaddrs().map(a => a.toString()),
      apiUrl: c.apiUrl(),
      version: VERSION,
      diskTotal: fs !== undefined ? BigInt(fs.blocks) * BigInt(fs.bsize) : 0n,
      diskFree: fs !== undefined ? BigInt(fs.bavail) * BigInt(fs.bsize) : 0n,
      gpus: gpus.map(g => ({ index: g.index, name: g.name, memoryTotal: BigInt(g.memoryTotal), memoryUsed: BigInt(g.memoryUsed), memoryFree: BigInt(g.memoryFree), utilization: g.utilization })),
      loaded: ps.loaded.map(l => ({ name: l.name, size: BigInt(l.size), sizeVram: BigInt(l.sizeVram), expiresAt: l.expiresAt, digest: l.digest })),
      models: models.map(m => ({ name: fullName(m.name), manifestDigest: hexBytes(digestHex(m.digest)), size: BigInt(m.size), pulledAt: BigInt(m.modifiedAt.getTime()), vramEstimate: BigInt(estimate(m)) })),
      blobs: [...blobs.values()],
      ollamaUp: ps.up,
      ...(c.policy?.() ?? NO_POLICY)
    }
  }, { invalidate: () => { slow = undefined } })
}
