import { parseDigest, type Digest } from './digest.js'
import type { StateDb } from './db.js'
import { chunkMapOfFile, decodeChunkMap, encodeChunkMap } from './chunk-map.js'
import { createListeners } from '../util/listeners.js'

/** Chunk maps this node made or fetched, kept in the state database and announced by CID. */
export interface ChunkMapStore {
  load: () => Promise<void>
  /** The map's CID bytes, for the node record; undefined when there is none yet. */
  cid: (d: Digest) => Uint8Array | undefined
  bytes: (d: Digest) => Promise<Uint8Array | undefined>
  save: (d: Digest, size: number, chain: Uint8Array[]) => Promise<void>
  /** Makes the map of a complete blob on disk (once, even when asked twice at the same time). */
  ensure: (d: Digest, size: number, path: string) => Promise<Uint8Array | undefined>
  /** A new map was saved (the node record announces it). */
  onChange: (listener: () => void) => () => void
}

const key = (d: Digest): string => `chunkmap/${d}`

export function createChunkMapStore (db: StateDb): ChunkMapStore {
  const cids = new Map<string, Uint8Array>()
  const listeners = createListeners()
  const making = new Map<string, Promise<Uint8Array | undefined>>()
  const store: ChunkMapStore = {
    load: async () => {
      for (const [k, v] of await db.list<{ cid: string, bytes: string }>('chunkmap/')) {
        // A map of an older version (or a damaged one) is dropped, not announced: it is made again when asked for.
        try { decodeChunkMap(new Uint8Array(Buffer.from(v.bytes, 'base64')), { digest: parseDigest(k.slice('chunkmap/'.length)) }) } catch { await db.del(k); continue }
        cids.set(k.slice('chunkmap/'.length), Buffer.from(v.cid, 'base64'))
      }
    },
    cid: (d) => cids.get(d),
    bytes: async (d) => {
      const v = await db.get<{ bytes: string }>(key(d))
      return v === undefined ? undefined : new Uint8Array(Buffer.from(v.bytes, 'base64'))
    },
    save: async (d, size, chain) => {
      const map = encodeChunkMap(size, chain)
      await db.put(key(d), { cid: Buffer.from(map.cid.bytes).toString('base64'), bytes: Buffer.from(map.bytes).toString('base64') })
      cids.set(d, map.cid.bytes)
      listeners.emit()
    },
    ensure: async (d, size, path) => {
      const have = await store.bytes(d)
      if (have !== undefined) return have
      let p = making.get(d)
      if (p === undefined) {
        p = (async () => {
          const map = await chunkMapOfFile(path)
          if (`sha256:${map.sha256}` !== d || map.size !== size) return undefined
          await store.save(d, size, map.chain)
          return map.bytes
        })().finally(() => making.delete(d))
        making.set(d, p)
      }
      return await p
    },
    onChange: listeners.on
  }
  return store
}
