import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digests from 'multiformats/hashes/digest'
import { OllamadError } from '../errors.js'
import { digestHex, parseDigest, type Digest } from './digest.js'
import type { PartialBlob } from './partial.js'
import { chunkCount, chunkRange, chunkSize } from './chunks.js'

/** Multicodec and multihash codes used for content addressing. */
export const RAW_CODE = 0x55
export const DAG_CBOR_CODE = 0x71
export const SHA2_256_CODE = 0x12
export const CHUNK_MAP_VERSION = 1
/** About 30 000 chunks, so blobs up to roughly 480 GiB at 16 MiB chunks. */
export const MAX_CHUNK_MAP_BYTES = 1024 * 1024

const READ_BUF = 1024 * 1024

/** The sha256 of every chunk of a blob, and its dag-cbor form with that form's CID. */
export interface ChunkMap {
  size: number
  chunkSize: number
  /** sha256 of each chunk, 32 bytes each, in chunk order. */
  hashes: Uint8Array[]
  /** dag-cbor of `{ v, size, chunkSize, hashes }`. */
  bytes: Uint8Array
  cid: CID
}

/** A computed map plus the whole blob's hex sha256, found in the same pass. */
export interface ComputedChunkMap extends ChunkMap { sha256: string }

/** Reads up to `length` bytes at `position` into the start of `buf`; returns how many it read. */
export type ReadAt = (buf: Uint8Array, position: number, length: number) => Promise<number>

interface Encoded { v: number, size: number, chunkSize: number, hashes: Uint8Array[] }

const invalid = (msg: string): OllamadError => new OllamadError('CHUNK_MAP_INVALID', `invalid chunk map: ${msg}`)

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest())

export const chunkHash = sha256

/** CIDv1 dag-cbor sha2-256 of some chunk-map bytes. */
export function chunkMapCid (bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR_CODE, Digests.create(SHA2_256_CODE, sha256(bytes)))
}

/** CID.equals is a type guard, which would narrow a failed comparison to `never`. */
const sameCid = (a: CID, b: CID): boolean => a.equals(b)

function checkSize (size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw invalid(`size ${String(size)} is not a byte count`)
}

/** Builds the map of a blob of `size` from its chunk hashes (already computed). */
export function encodeChunkMap (size: number, hashes: Uint8Array[]): ChunkMap {
  checkSize(size)
  if (hashes.length !== chunkCount(size)) throw invalid(`${hashes.length} hashes for ${chunkCount(size)} chunks`)
  if (hashes.some(h => h.byteLength !== 32)) throw invalid('a hash is not 32 bytes')
  const body: Encoded = { v: CHUNK_MAP_VERSION, size, chunkSize: chunkSize(size), hashes }
  const bytes = dagCbor.encode(body)
  if (bytes.byteLength > MAX_CHUNK_MAP_BYTES) {
    throw new OllamadError('SIZE_LIMIT', `the chunk map of a ${size}-byte blob is ${bytes.byteLength} bytes, over ${MAX_CHUNK_MAP_BYTES}`)
  }
  return { size, chunkSize: body.chunkSize, hashes, bytes, cid: chunkMapCid(bytes) }
}

/** Hashes a blob chunk by chunk (and whole) through `read`, one buffer at a time. */
export async function computeChunkMap (read: ReadAt, size: number, signal?: AbortSignal): Promise<ComputedChunkMap> {
  checkSize(size)
  const whole = createHash('sha256')
  const buf = new Uint8Array(Math.min(READ_BUF, Math.max(1, size)))
  const hashes: Uint8Array[] = []
  for (let i = 0; i < chunkCount(size); i++) {
    const { start, end } = chunkRange(size, i)
    const h = createHash('sha256')
    for (let pos = start; pos < end;) {
      if (signal?.aborted === true) throw new OllamadError('ABORTED', 'chunk map aborted', { cause: signal.reason })
      const n = await read(buf, pos, Math.min(buf.byteLength, end - pos))
      if (n <= 0) throw new OllamadError('INTERNAL', `short read at ${pos} of ${size} bytes`)
      const part = buf.subarray(0, n)
      h.update(part)
      whole.update(part)
      pos += n
    }
    hashes.push(new Uint8Array(h.digest()))
  }
  return { ...encodeChunkMap(size, hashes), sha256: whole.digest('hex') }
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
 * Decodes and checks a map that came from elsewhere: its CID (when known), its shape, and that
 * it splits the blob exactly as chunks.ts does.
 */
export function decodeChunkMap (bytes: Uint8Array, expectedCid?: CID, expectedSize?: number): ChunkMap {
  if (bytes.byteLength > MAX_CHUNK_MAP_BYTES) throw invalid(`${bytes.byteLength} bytes, over ${MAX_CHUNK_MAP_BYTES}`)
  const cid = chunkMapCid(bytes)
  if (expectedCid !== undefined && !sameCid(cid, expectedCid)) throw invalid(`bytes hash to ${cid.toString()}, not ${expectedCid.toString()}`)
  let body: unknown
  try { body = dagCbor.decode(bytes) } catch (e) { throw invalid(`not dag-cbor (${(e as Error).message})`) }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('not a map')
  const { v, size, chunkSize: cs, hashes } = body as Partial<Encoded>
  if (v !== CHUNK_MAP_VERSION) throw invalid(`version ${String(v)}`)
  if (typeof size !== 'number') throw invalid('no size')
  checkSize(size)
  if (expectedSize !== undefined && size !== expectedSize) throw invalid(`size ${size}, expected ${expectedSize}`)
  if (cs !== chunkSize(size)) throw invalid(`chunk size ${String(cs)} for a ${size}-byte blob, expected ${chunkSize(size)}`)
  if (!Array.isArray(hashes) || hashes.length !== chunkCount(size)) throw invalid(`hash count is not ${chunkCount(size)}`)
  if (!hashes.every(h => h instanceof Uint8Array && h.byteLength === 32)) throw invalid('a hash is not 32 bytes')
  return { size, chunkSize: cs, hashes, bytes, cid }
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
