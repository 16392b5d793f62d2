import { alignedBuffer, DIRECT_ALIGN } from './aligned.js'

/**
 * Chunk buffers for a download's requests, reused: one fresh chunk per request is garbage that
 * the GC lets pile up to tens of megabytes before it collects.
 */
export interface BufferPool {
  /** A buffer of at least `n` bytes. */
  take: (n: number) => Uint8Array
  /** Gives a buffer back once nothing reads it any more. */
  give: (b: Uint8Array) => void
}

/** Buffers from this size up start on a page boundary, so their bytes can be written past the page cache. */
const ALIGNED_MIN_BYTES = 1024 * 1024

const allocate = (n: number): Uint8Array => n >= ALIGNED_MIN_BYTES && n % DIRECT_ALIGN === 0 ? alignedBuffer(n) : new Uint8Array(n)

const smallest = (spare: Uint8Array[]): number => {
  let at = 0
  for (let i = 1; i < spare.length; i++) if ((spare[i] as Uint8Array).byteLength < (spare[at] as Uint8Array).byteLength) at = i
  return at
}

/**
 * Buffers of at least `chunkBytes` (0: exactly what is asked), at most `keep` kept spare and at
 * most `maxSpareBytes` in all, the largest kept first.
 */
export function createBufferPool (chunkBytes: number, keep: number, maxSpareBytes = Infinity): BufferPool {
  const spare: Uint8Array[] = []
  let spareBytes = 0
  return {
    take: (n) => {
      // The smallest that fits, so a pool shared by blobs of several chunk sizes keeps its large ones for large chunks.
      let best = -1
      for (let i = 0; i < spare.length; i++) {
        const b = spare[i] as Uint8Array
        if (b.byteLength >= n && (best < 0 || b.byteLength < (spare[best] as Uint8Array).byteLength)) best = i
      }
      if (best < 0) return allocate(Math.max(n, chunkBytes))
      const b = spare.splice(best, 1)[0] as Uint8Array
      spareBytes -= b.byteLength
      return b
    },
    give: (b) => {
      // Past a limit, smaller spares make room for a larger one: a server's pool that kept the
      // few-byte buffers of a small blob's reads allocated a fresh 4 MiB one for every chunk after.
      const full = (): boolean => spare.length >= keep || spareBytes + b.byteLength > maxSpareBytes
      while (spare.length > 0 && full()) {
        const i = smallest(spare)
        const s = spare[i] as Uint8Array
        if (s.byteLength >= b.byteLength) break
        spare.splice(i, 1)
        spareBytes -= s.byteLength
      }
      if (full()) return
      spare.push(b)
      spareBytes += b.byteLength
    }
  }
}
