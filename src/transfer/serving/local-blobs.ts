import { createHash } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import { Bitmap } from '../../util/bitmap.js'
import { chunkCount, chunkRange, manifestBlobs, type ChunkMapStore, type Digest, type PartialBlob, type Store } from '../../store/index.js'
import type { Puller } from '../puller.js'
import type { Arrival } from './arrivals.js'

/**
 * What this node can serve to peers over /ollamad/blob/1.0.0. Only verified chunks are offered
 * whole: complete blobs, and the chunks of partial blobs that passed their chunk check. A chunk
 * still arriving is relayed as it comes, but its last bytes only once it passed that check.
 */
export interface LocalBlobs {
  /** Size and held chunks of a blob, or undefined when this node has none of it. */
  have: (d: Digest) => Promise<{ size: number, complete: boolean, bitmap: Bitmap } | undefined>
  /** Chunk `index` of a download in progress while its bytes arrive (relayed as they come, the last ones once it passed its check). */
  arrival?: (d: Digest, index: number) => Arrival | undefined
  /** Reads chunk `index` (at most 16 MiB) into `into` when it is large enough, else a new buffer; undefined when not held. */
  readChunk: (d: Digest, index: number, into?: Uint8Array) => Promise<Uint8Array | undefined>
  /** Manifest bytes by the sha256 of those bytes. */
  manifest: (d: Digest) => Promise<Uint8Array | undefined>
  /** The dag-cbor chunk map of blob `d`, when this node has one. */
  chunkMap: (d: Digest) => Promise<Uint8Array | undefined>
}

export interface LocalBlobsComponents {
  store: Store
  /** Downloads in progress: their verified chunks, and chunks arriving now. */
  puller: Pick<Puller, 'partials' | 'arrivals'>
  maps: ChunkMapStore
}

/** Serves this node's complete blobs, the chunks of its downloads in progress, its manifests and chunk maps. */
export function createLocalBlobs ({ store, puller, maps }: LocalBlobsComponents): LocalBlobs {
  const complete = async (d: Digest): Promise<{ path: string, size: number } | undefined> => {
    const path = store.layout.blob(d)
    const s = await stat(path).catch(() => undefined)
    return s?.isFile() === true ? { path, size: s.size } : undefined
  }
  const partial = (d: Digest): PartialBlob | undefined => puller.partials().find(p => p.digest === d)
  return {
    have: async (d) => {
      const c = await complete(d)
      if (c !== undefined) {
        const bitmap = new Bitmap(chunkCount(c.size))
        for (let i = 0; i < bitmap.length; i++) bitmap.set(i)
        return { size: c.size, complete: true, bitmap }
      }
      const p = partial(d)
      return p === undefined ? undefined : { size: p.size, complete: false, bitmap: new Bitmap(p.bitmap.length, p.bitmap.bytes) }
    },
    arrival: (d, index) => puller.arrivals.get(d, index),
    readChunk: async (d, index, into) => {
      const bufFor = (n: number): Uint8Array => into !== undefined && into.byteLength >= n ? into.subarray(0, n) : Buffer.allocUnsafe(n)
      const whole = async (c: { path: string, size: number } | undefined): Promise<Uint8Array | undefined> => {
        if (c === undefined || index < 0 || index >= chunkCount(c.size)) return undefined
        const { start, end } = chunkRange(c.size, index)
        const fh = await open(c.path, 'r')
        try {
          const buf = bufFor(end - start)
          const { bytesRead } = await fh.read(buf, 0, buf.byteLength, start)
          return bytesRead === buf.byteLength ? buf : undefined
        } finally { await fh.close() }
      }
      const c = await complete(d)
      if (c !== undefined) return await whole(c)
      const p = partial(d)
      if (p === undefined || index < 0 || index >= p.bitmap.length || !p.bitmap.get(index)) return undefined
      const { start, end } = chunkRange(p.size, index)
      const buf = bufFor(end - start)
      try {
        return await p.read(buf, start, buf.byteLength) === buf.byteLength ? buf : undefined
      } catch (e) {
        // The download closed its file before we read (it was published, or dropped): the
        // published blob, if there is one, has the chunk.
        if ((e as NodeJS.ErrnoException).code !== 'EBADF') throw e
        return await whole(await complete(d))
      }
    },
    manifest: async (d) => {
      const entry = store.list().find(e => e.digest === d)
      if (entry === undefined) return undefined
      // The file may have changed since the catalog read it: serve it only if it still hashes to d.
      const bytes = await readFile(store.layout.manifest(entry.name)).catch(() => undefined)
      return bytes !== undefined && `sha256:${createHash('sha256').update(bytes).digest('hex')}` === d ? bytes : undefined
    },
    chunkMap: async (d) => {
      const have = await maps.bytes(d)
      if (have !== undefined) return have
      // A complete blob that came before maps existed (or from Ollama's own pull): make its map now.
      const c = await complete(d)
      const known = store.list().some(e => manifestBlobs(e.manifest).some(l => l.digest === d))
      return c !== undefined && known ? await maps.ensure(d, c.size, c.path) : undefined
    }
  }
}
