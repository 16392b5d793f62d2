import { timingSafeEqual } from 'node:crypto'
import { OllamadError } from '../errors.js'
import { loadNative } from './native.js'

/**
 * A blob's sha256 chain: the SHA-256 chaining value after each chunk of `chunkSize` bytes (the
 * last chunk may be shorter), the last value being the blob's digest. Chunk boundaries fall on 64-byte blocks, so chunk i is checked out of order by
 * hashing it on from the value after chunk i-1 (the IV for chunk 0): one sha256 pass checks both
 * the chunk and its place in the blob, and a blob whose every chunk fits is the blob whose digest
 * ends the chain (docs/design.md, chunk maps).
 */
interface Native {
  /** Hashes `data` on from `state`, `before` bytes into the message: the next state, or the digest when `final`. */
  step: (state: Uint8Array, data: Uint8Array, before: number, final: boolean) => Uint8Array
  /** The same on libuv's thread pool; `state` and `data` must not change until it settles. */
  stepAsync: (state: Uint8Array, data: Uint8Array, before: number, final: boolean) => Promise<Uint8Array>
}

const native = loadNative<Native>('sha256_chain')

/** SHA-256's initial chaining value. */
export const SHA256_IV = new Uint8Array(Buffer.from('6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19', 'hex'))

const same = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && timingSafeEqual(a, b)

const count = (size: number, chunkSize: number): number => Math.max(1, Math.ceil(size / chunkSize))
const endOf = (size: number, chunkSize: number, index: number): number => Math.min(size, (index + 1) * chunkSize)

/** The step that checks chunk `index` of a blob of `size` against `chain`; undefined when `data` cannot be that chunk. */
function chainStep (chain: readonly Uint8Array[], size: number, chunkSize: number, index: number, data: Uint8Array): { from: Uint8Array, want: Uint8Array, start: number, final: boolean } | undefined {
  const start = index * chunkSize
  const from = index === 0 ? SHA256_IV : chain[index - 1]
  const want = chain[index]
  if (from === undefined || want === undefined || start > size || data.byteLength !== endOf(size, chunkSize, index) - start) return undefined
  return { from, want, start, final: index === count(size, chunkSize) - 1 }
}

/** Whether `data` is chunk `index` of a blob of `size` with this chain (one sha256 pass over it). */
export function fitsChain (chain: readonly Uint8Array[], size: number, chunkSize: number, index: number, data: Uint8Array): boolean {
  const s = chainStep(chain, size, chunkSize, index, data)
  return s !== undefined && same(native.step(s.from, data, s.start, s.final), s.want)
}

/** fitsChain off the event loop, on libuv's thread pool: `data` must not change until it settles. */
export async function fitsChainAsync (chain: readonly Uint8Array[], size: number, chunkSize: number, index: number, data: Uint8Array): Promise<boolean> {
  const s = chainStep(chain, size, chunkSize, index, data)
  return s !== undefined && same(await native.stepAsync(s.from, data, s.start, s.final), s.want)
}

/** The sha256 of `data`, on libuv's thread pool: `data` must not change until it settles. */
export async function sha256Async (data: Uint8Array): Promise<Uint8Array> {
  return await native.stepAsync(SHA256_IV, data, 0, true)
}

/** Hashes a blob in byte order, in pieces that do not cross a chunk's end, keeping the chain. */
export interface ChainHasher {
  update: (piece: Uint8Array) => void
  /** How many bytes were hashed so far. */
  position: () => number
  /** The chain, once every byte is hashed. */
  chain: () => Uint8Array[]
  /** The blob's hex sha256, once every byte is hashed. */
  hex: () => string
}

export function createChainHasher (size: number, chunkSize: number): ChainHasher {
  const chain: Uint8Array[] = []
  const chunks = count(size, chunkSize)
  let state: Uint8Array = SHA256_IV
  let pos = 0
  const complete = (): Uint8Array[] => {
    // An empty blob has one empty chunk, which no update brings.
    if (size === 0 && chain.length === 0) chain.push(native.step(SHA256_IV, new Uint8Array(0), 0, true))
    if (chain.length !== chunks) throw new OllamadError('INTERNAL', `the chain of a ${size}-byte blob is hashed to byte ${pos} only`)
    return chain
  }
  return {
    update: (piece) => {
      const end = endOf(size, chunkSize, chain.length)
      if (piece.byteLength === 0) return
      if (pos + piece.byteLength > end) throw new OllamadError('INTERNAL', `a piece at byte ${pos} crosses the end of chunk ${chain.length}`)
      const final = pos + piece.byteLength === size
      state = native.step(state, piece, pos, final)
      pos += piece.byteLength
      if (pos === end) chain.push(state)
    },
    position: () => pos,
    chain: complete,
    hex: () => Buffer.from(complete()[chunks - 1] as Uint8Array).toString('hex')
  }
}
