import { createHash } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import { Bitmap } from '../util/bitmap.js'
import { manifestBlobs, chunkCount, chunkRange, type Digest, type Store, type ChunkMapStore } from '../store/index.js'
import type { LocalBlobs } from './local-blobs.js'
import type { Puller } from './puller.js'

/** Serves this node's complete blobs, the chunks of its downloads in progress, its manifests and chunk maps. */
export function createLocalBlobs (store: Store, puller: Puller, maps: ChunkMapStore): LocalBlobs {
  const complete = async (d: Digest): Promise<{ path: string, size: number } | undefined> => {
    const path = store.layout.blob(d)
    const s = await stat(path).catch(() => undefined)
    return s?.isFile() === true ? { path, size: s.size } : undefined
  }
  const partial = (d: Digest): ReturnType<Puller['partials']>[number] | undefined => puller.partials().find(p => p.digest === d)
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
    readChunk: async (d, index) => {
      const c = await complete(d)
      if (c !== undefined) {
        if (index < 0 || index >= chunkCount(c.size)) return undefined
        const { start, end } = chunkRange(c.size, index)
        const fh = await open(c.path, 'r')
        try {
          const buf = Buffer.allocUnsafe(end - start)
          const { bytesRead } = await fh.read(buf, 0, buf.byteLength, start)
          return bytesRead === buf.byteLength ? buf : undefined
        } finally { await fh.close() }
      }
      const p = partial(d)
      if (p === undefined || index < 0 || index >= p.bitmap.length || !p.bitmap.get(index)) return undefined
      const { start, end } = chunkRange(p.size, index)
      const buf = Buffer.allocUnsafe(end - start)
      return await p.read(buf, start, buf.byteLength) === buf.byteLength ? buf : undefined
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
