import { createHash, timingSafeEqual } from 'node:crypto'
import { open } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digests from 'multiformats/hashes/digest'
import { OllamadError } from '../errors.js'
import { digestHex, parseDigest, type Digest } from './digest.js'
import type { PartialBlob } from './partial.js'
import { chunkCount, chunkRange, chunkSize } from './chunks.js'
import { createChainHasher as chainHasherOf, fitsChain, fitsChainAsync, sha256Async, type ChainHasher } from '../util/sha256-chain.js'

/** Multicodec and multihash codes used for content addressing. */
export const RAW_CODE = 0x55
export const DAG_CBOR_CODE = 0x71
export const SHA2_256_CODE = 0x12
/** 2: the map holds the blob's sha256 chain (sha256-chain.ts); 1 held each chunk's own sha256. */
export const CHUNK_MAP_VERSION = 2
/** About 30 000 chunks, so blobs up to roughly 480 GiB at 16 MiB chunks. */
export const MAX_CHUNK_MAP_BYTES = 1024 * 1024

const READ_BUF = 1024 * 1024

/** The sha256 chain of a blob, and its dag-cbor form with that form's CID. */
export interface ChunkMap {
  size: number
  chunkSize: number
  /** The SHA-256 chaining value after each chunk, 32 bytes each; the last is the blob's digest. */
  chain: Uint8Array[]
  /** dag-cbor of `{ v, size, chunkSize, chain }`. */
  bytes: Uint8Array
  cid: CID
}

/** A computed map plus the whole blob's hex sha256, found in the same pass. */
export interface ComputedChunkMap extends ChunkMap { sha256: string }

/** Reads up to `length` bytes at `position` into the start of `buf`; returns how many it read. */
export type ReadAt = (buf: Uint8Array, position: number, length: number) => Promise<number>

interface Encoded { v: number, size: number, chunkSize: number, chain: Uint8Array[] }

const invalid = (msg: string): OllamadError => new OllamadError('CHUNK_MAP_INVALID', `invalid chunk map: ${msg}`)

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest())

export const chunkHash = sha256

/** chunkHash off the event loop (libuv's thread pool): `data` must not change until it settles. */
export const chunkHashAsync = sha256Async

/** Hashes a blob in byte order, keeping its sha256 chain (the map's body). */
export const createChainHasher = (size: number): ChainHasher => chainHasherOf(size, chunkSize(size))

/** Whether `data` is chunk `index` of a blob of `size` whose map holds this chain. */
export const chunkFitsChain = (chain: readonly Uint8Array[], size: number, index: number, data: Uint8Array): boolean =>
  fitsChain(chain, size, chunkSize(size), index, data)

/** chunkFitsChain off the event loop (libuv's thread pool): `data` must not change until it settles. */
export const chunkFitsChainAsync = async (chain: readonly Uint8Array[], size: number, index: number, data: Uint8Array): Promise<boolean> =>
  await fitsChainAsync(chain, size, chunkSize(size), index, data)

/** CIDv1 dag-cbor sha2-256 of some chunk-map bytes. */
export function chunkMapCid (bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODE, Digests.create(SHA2_256_CODE, sha256(bytes)))
}

/** CID.equals is a type guard, which would narrow a failed comparison to `never`. */
const sameCid = (a: CID, b: CID): boolean => a.equals(b)

function checkSize (size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw invalid(`size ${String(size)} is not a byte count`)
}

/** Builds the map of a blob of `size` from its chain (already computed). */
export function encodeChunkMap (size: number, chain: Uint8Array[]): ChunkMap {
  checkSize(size)
  if (chain.length !== chunkCount(size)) throw invalid(`${chain.length} chain values for ${chunkCount(size)} chunks`)
  if (chain.some(h => h.byteLength !== 32)) throw invalid('a chain value is not 32 bytes')
  const body: Encoded = { v: CHUNK_MAP_VERSION, size, chunkSize: chunkSize(size), chain }
  const bytes = dagCbor.encode(body)
  if (bytes.byteLength > MAX_CHUNK_MAP_BYTES) {
    throw new OllamadError('SIZE_LIMIT', `the chunk map of a ${size}-byte blob is ${bytes.byteLength} bytes, over ${MAX_CHUNK_MAP_BYTES}`)
  }
  return { size, chunkSize: body.chunkSize, chain, bytes, cid: chunkMapCid(bytes) }
}

/**
 * Hashes on from the hasher's position to `end` (a chunk's end at most), reading through `buf`.
 * A regular file reads whole but at its end, and a piece of a chain step must be whole too, so a
 * short read is an error.
 */
export async function hashThrough (hasher: ChainHasher, read: ReadAt, buf: Uint8Array, end: number, signal?: AbortSignal): Promise<void> {
  for (let pos = hasher.position(); pos < end; pos = hasher.position()) {
    if (signal?.aborted === true) throw new OllamadError('ABORTED', 'hashing aborted', { cause: signal.reason })
    const want = Math.min(buf.byteLength, end - pos)
    if (await read(buf, pos, want) < want) throw new OllamadError('INTERNAL', `short read at byte ${pos} of ${end}`)
    hasher.update(buf.subarray(0, want))
  }
}

/** Hashes a blob in order through `read`, one buffer at a time, keeping its chain. */
export async function computeChunkMap (read: ReadAt, size: number, signal?: AbortSignal): Promise<ComputedChunkMap> {
  checkSize(size)
  const hasher = createChainHasher(size)
  const buf = new Uint8Array(Math.min(READ_BUF, Math.max(1, size)))
  for (let i = 0; i < chunkCount(size); i++) await hashThrough(hasher, read, buf, chunkRange(size, i).end, signal)
  return { ...encodeChunkMap(size, hasher.chain()), sha256: hasher.hex() }
}

export async function chunkMapOfPartial (p: PartialBlob, signal?: AbortSignal): Promise<ComputedChunkMap> {
  return await computeChunkMap(p.read, p.size, signal)
}

export async function chunkMapOfFile (path: string, signal?: AbortSignal): Promise<ComputedChunkMap> {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    return await computeChunkMap(async (buf, position, length) => (await fh.read(buf, 0, length, position)).bytesRead, size, signal)
  } finally {
    await fh.close()
  }
}

/**
 * Decodes and checks a map that came from elsewhere: its CID (when known), its shape, that it
 * splits the blob exactly as chunks.ts does, and that its chain ends in the blob's digest.
 */
export function decodeChunkMap (bytes: Uint8Array, expected: { cid?: CID, size?: number, digest?: Digest } = {}): ChunkMap {
  const { cid: expectedCid, size: expectedSize } = expected
  if (bytes.byteLength > MAX_CHUNK_MAP_BYTES) throw invalid(`${bytes.byteLength} bytes, over ${MAX_CHUNK_MAP_BYTES}`)
  const cid = chunkMapCid(bytes)
  if (expectedCid !== undefined && !sameCid(cid, expectedCid)) throw invalid(`bytes hash to ${cid.toString()}, not ${expectedCid.toString()}`)
  let body: unknown
  try { body = dagCbor.decode(bytes) } catch (e) { throw invalid(`not dag-cbor (${(e as Error).message})`) }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('not a map')
  const { v, size, chunkSize: cs, chain } = body as Partial<Encoded>
  if (v !== CHUNK_MAP_VERSION) throw invalid(`version ${String(v)}`)
  if (typeof size !== 'number') throw invalid('no size')
  checkSize(size)
  if (expectedSize !== undefined && size !== expectedSize) throw invalid(`size ${size}, expected ${expectedSize}`)
  if (cs !== chunkSize(size)) throw invalid(`chunk size ${String(cs)} for a ${size}-byte blob, expected ${chunkSize(size)}`)
  if (!Array.isArray(chain) || chain.length !== chunkCount(size)) throw invalid(`chain length is not ${chunkCount(size)}`)
  if (!chain.every(h => h instanceof Uint8Array && h.byteLength === 32)) throw invalid('a chain value is not 32 bytes')
  const last = chain[chain.length - 1] as Uint8Array
  if (expected.digest !== undefined && !timingSafeEqual(last, digestBytes(expected.digest))) throw invalid(`its chain does not end in ${expected.digest}`)
  return { size, chunkSize: cs, chain, bytes, cid }
}

/** The 32 bytes of an Ollama digest. */
export const digestBytes = (d: Digest): Uint8Array => new Uint8Array(Buffer.from(digestHex(d), 'hex'))

/** An Ollama digest from 32 bytes; anything else is refused. */
export function digestFromBytes (b: Uint8Array): Digest {
  if (b.byteLength !== 32) throw new OllamadError('INVALID_DIGEST', `a sha256 digest is 32 bytes, not ${b.byteLength}`)
  return parseDigest(`sha256:${Buffer.from(b).toString('hex')}`)
}

/** The blob's CID: CIDv1 raw with the digest's own sha2-256 bytes, so no hashing is needed. */
export function blobCid (d: Digest): CID {
  return CID.createV1(RAW_CODE, Digests.create(SHA2_256_CODE, digestBytes(d)))
}

export function digestFromCid (cid: CID): Digest {
  if (cid.version !== 1 || cid.code !== RAW_CODE || cid.multihash.code !== SHA2_256_CODE) {
    throw new OllamadError('INVALID_DIGEST', `${cid.toString()} is not a raw sha2-256 CIDv1`)
  }
  return digestFromBytes(cid.multihash.digest)
}
