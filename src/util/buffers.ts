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

/** Buffers of at least `chunkBytes` (0: exactly what is asked), at most `keep` kept spare. */
export function createBufferPool (chunkBytes: number, keep: number): BufferPool {
  const spare: Uint8Array[] = []
  return {
    take: (n) => {
      const i = spare.findIndex(b => b.byteLength >= n)
      return i >= 0 ? spare.splice(i, 1)[0] as Uint8Array : new Uint8Array(Math.max(n, chunkBytes))
    },
    give: (b) => { if (spare.length < keep) spare.push(b) }
  }
}
