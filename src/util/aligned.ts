import { loadNative } from './native.js'

/** Writes that skip the page cache need the buffer, the length and the file offset on this boundary. */
export const DIRECT_ALIGN = 4096

const native = loadNative<{ alloc: (n: number) => Uint8Array }>('aligned')
const aligned = new WeakSet<ArrayBufferLike>()

/** A zeroed buffer of `n` bytes whose first byte is on a page boundary. */
export function alignedBuffer (n: number): Uint8Array {
  const b = native.alloc(n)
  aligned.add(b.buffer)
  return b
}

/** Whether `b` starts on a page boundary (it is a view of an alignedBuffer at a multiple of DIRECT_ALIGN). */
export function isAligned (b: Uint8Array): boolean {
  return b.byteOffset % DIRECT_ALIGN === 0 && aligned.has(b.buffer)
}
