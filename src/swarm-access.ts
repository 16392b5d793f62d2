import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { Bitmap } from './util/bitmap.js'
import { OllamadError } from './errors.js'
import { chunkCount, digestHex, modelKey, nameKey, parseDigest, parseManifest, type Digest, type ModelName, type ChunkMapStore } from './store/index.js'
import { seedOf, type BlobClient, type PeerView, type SwarmAccess } from './transfer/index.js'
import type { ClusterState, Member } from './cluster/index.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** An upstream owner whose copy of a blob has not grown for this long is passed over for the next. */
export const OWNER_TAKEOVER_MS = 15_000

/** Rank of a target for one chunk of a blob (rendezvous: highest first). */
const chunkRank = (d: Digest, index: number, peer: string): string => createHash('sha256').update(`${d}/${index}/${peer}`).digest('hex')

/** The cluster as the puller sees it: holders of chunks, chunk maps and manifests, from the gossiped records. */
export function createSwarmAccess (state: ClusterState, client: BlobClient, maps: ChunkMapStore, now: () => number = Date.now, takeoverMs = OWNER_TAKEOVER_MS): SwarmAccess {
  /** Per target and blob: chunks it held when last seen, and since when that count stands. */
  const progress = new Map<string, { count: number, since: number, sequence: bigint }>()
  const orders = new Map<string, string[]>()
  /** Whether `peer` is working on blob `d`: not gone, and its copy grew within the takeover time. */
  const delivering = (peer: string, d: Digest, size: number): boolean => {
    const m = state.member(peer)
    // A busy owner can miss heartbeats and turn suspect; only gone, or no growth, passes it over.
    if (m === undefined || m.liveness === 'gone') return false
    const key = `${peer}|${d}`
    const p = progress.get(key)
    if (p === undefined || p.sequence !== m.record.sequence) {
      const blob = m.record.blobs.find(b => hex(b.digest) === digestHex(d))
      const count = blob === undefined ? 0 : blob.complete ? chunkCount(size) : new Bitmap(chunkCount(size), blob.bitmap).count()
      if (p === undefined || count > p.count) progress.set(key, { count, since: now(), sequence: m.record.sequence })
      else p.sequence = m.record.sequence
    }
    return now() - (progress.get(key) as { since: number }).since < takeoverMs
  }
  // A holder busy uploading can miss heartbeats and turn suspect; it is still a source until gone.
  const others = (): Member[] => state.members().filter(m => !m.self && m.liveness !== 'gone')
  const holdersOf = (d: Digest, size: number): Array<{ m: Member, blob: Member['record']['blobs'][number] }> => {
    const h = digestHex(d)
    return others().flatMap(m => m.record.blobs.filter(b => hex(b.digest) === h && Number(b.size) === size).map(blob => ({ m, blob })))
  }
  return {
    client,
    bans: new Map(),
    seed: seedOf(state.selfId),
    selfId: state.selfId,
    peersFor: (d, size) => holdersOf(d, size).map(({ m, blob }) => {
      const bitmap = new Bitmap(chunkCount(size), blob.complete ? undefined : blob.bitmap)
      if (blob.complete) for (let i = 0; i < bitmap.length; i++) bitmap.set(i)
      const announced = new Map(blob.announced.map(a => [a.index, a.sha256]))
      const arriving = blob.complete || blob.arriving.byteLength === 0 ? undefined : new Bitmap(chunkCount(size), blob.arriving)
      return { id: m.peerId, bitmap, ...(announced.size > 0 ? { announced } : {}), ...(blob.chunkMap.byteLength > 0 ? { hasMap: true } : {}), ...(arriving !== undefined ? { arriving } : {}) } satisfies PeerView
    }),
    chunkMap: async (d, size, signal) => {
      for (const { m, blob } of holdersOf(d, size)) {
        if (blob.chunkMap.byteLength === 0) continue
        try {
          const map = await client.chunkMap(m.peerId, d, { signal, expectedCid: CID.decode(blob.chunkMap), expectedSize: size })
          if (map !== undefined) return map
        } catch {}
      }
      return undefined
    },
    manifestFor: async (name: ModelName, signal) => {
      // The digest most recently pulled for this name anywhere in the cluster.
      const key = nameKey(name)
      const copies = others().flatMap(m => m.record.models.filter(h => modelKey(h.name) === key).map(h => ({ m, h })))
      copies.sort((a, b) => Number(b.h.pulledAt - a.h.pulledAt) || (hex(b.h.manifestDigest) < hex(a.h.manifestDigest) ? -1 : 1))
      const best = copies[0]
      if (best === undefined) return undefined
      const digest = parseDigest(`sha256:${hex(best.h.manifestDigest)}`)
      for (const { m } of copies.filter(c => hex(c.h.manifestDigest) === digestHex(digest))) {
        try {
          const bytes = await client.manifest(m.peerId, digest, { signal })
          if (bytes !== undefined) return { bytes: Buffer.from(bytes), manifest: parseManifest(bytes), digest }
        } catch {}
      }
      throw new OllamadError('REGISTRY_UNREACHABLE', `no holder of ${name.model}:${name.tag} answered for its manifest`)
    },
    saveChunkMap: async (d, size, hashes) => { await maps.save(d, size, hashes) },
    registryOwner: (d, size, index, targets) => {
      const okey = `${d}/${index}/${targets.join()}`
      let order = orders.get(okey)
      if (order === undefined) {
        order = [...targets].sort((a, b) => chunkRank(d, index, a) < chunkRank(d, index, b) ? 1 : -1)
        if (orders.size > 100_000) orders.clear()
        orders.set(okey, order)
      }
      for (const t of order) {
        if (t === state.selfId) return true
        if (delivering(t, d, size)) return false
      }
      // Not a target itself (or all ahead failed): fetch it.
      return true
    }
  }
}
