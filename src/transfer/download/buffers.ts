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

export function createBufferPool (chunkBytes: number, keep: number): BufferPool {
  const spare: Uint8Array[] = []
  return {
    take: (n) => { const b = spare.pop(); return b !== undefined && b.byteLength >= n ? b : new Uint8Array(chunkBytes) },
    give: (b) => { if (spare.length < keep) spare.push(b) }
  }
}
