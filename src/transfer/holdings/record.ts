/**
 * The holdings a node puts in its record, and how a downloader reads them back: the models it
 * holds, and each blob held whole or in part with its chunk bitmap, the sha256 of chunks taken
 * from the registry (announced while no chunk map exists), the chunks arriving now (relayed as
 * they come) and its chunk map's CID.
 */
import type { NodeFacts } from '../../cluster/index.js'
import { chunkCount, digestBytes, digestHex, fullName, manifestBlobs, type Digest, type ModelEntry } from '../../store/index.js'
import { Bitmap } from '../../util/bitmap.js'
import type { PeerView } from '../download/peer-state.js'

export type Holdings = Pick<NodeFacts, 'models' | 'blobs'>
export type HeldBlob = NodeFacts['blobs'][number]

/** A blob being downloaded, as the record shows it. */
export interface PartialHolding {
  digest: Digest
  size: number
  bitmap: Bitmap
  /** sha256 of chunks that came from the registry, by index. */
  announced?: ReadonlyMap<number, Uint8Array>
  /** Indices of the chunks arriving now. */
  arriving: readonly number[]
}

export interface HoldingsInput {
  models: readonly ModelEntry[]
  partials: readonly PartialHolding[]
  /** The CID bytes of a blob's chunk map, when this node has the map. */
  mapCid: (d: Digest) => Uint8Array | undefined
  /** VRAM the model needs, 0 while unknown. */
  vramEstimate: (m: ModelEntry) => number
}

const hexBytes = (hex: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(hex, 'hex'))
const mapBytes = (cid: Uint8Array | undefined): Uint8Array<ArrayBuffer> => cid !== undefined ? new Uint8Array(cid) : new Uint8Array(0)

/** What a node's record says it holds. */
export function encodeHoldings (input: HoldingsInput): Holdings {
  const blobs = new Map<string, HeldBlob>()
  for (const m of input.models) {
    for (const l of manifestBlobs(m.manifest)) {
      blobs.set(l.digest, { digest: hexBytes(digestHex(l.digest)), size: BigInt(l.size), complete: true, bitmap: new Uint8Array(0), chunkMap: mapBytes(input.mapCid(l.digest)), announced: [], arriving: new Uint8Array(0) })
    }
  }
  for (const p of input.partials) {
    if (blobs.has(p.digest)) continue
    // Only chunks still held are announced or shown arriving.
    const announced = [...(p.announced ?? [])].filter(([i]) => p.bitmap.get(i)).map(([index, sha256]) => ({ index, sha256: new Uint8Array(sha256) }))
    const coming = p.arriving.filter(i => i < p.bitmap.length && !p.bitmap.get(i))
    const arriving = new Bitmap(p.bitmap.length)
    for (const i of coming) arriving.set(i)
    blobs.set(p.digest, { digest: hexBytes(digestHex(p.digest)), size: BigInt(p.size), complete: false, bitmap: new Uint8Array(p.bitmap.bytes), chunkMap: mapBytes(input.mapCid(p.digest)), announced, arriving: coming.length > 0 ? new Uint8Array(arriving.bytes) : new Uint8Array(0) })
  }
  return {
    models: input.models.map(m => ({ name: fullName(m.name), manifestDigest: hexBytes(digestHex(m.digest)), size: BigInt(m.size), pulledAt: BigInt(m.modifiedAt.getTime()), vramEstimate: BigInt(input.vramEstimate(m)) })),
    blobs: [...blobs.values()]
  }
}

/** The blob `d` (of `size` bytes, when given) in a record's holdings, if the record shows it. */
export function heldBlob (holdings: Pick<Holdings, 'blobs'>, d: Digest, size?: number): HeldBlob | undefined {
  // Bytes compared, not hex strings: this runs for every member on each record change and upload slot.
  const want = Buffer.from(digestBytes(d))
  return holdings.blobs.find(b => (size === undefined || Number(b.size) === size) && want.equals(b.digest))
}

/** The chunks a held blob has: all of them when complete. */
export function heldChunks (blob: HeldBlob): Bitmap {
  const chunks = chunkCount(Number(blob.size))
  const bitmap = new Bitmap(chunks, blob.complete ? undefined : blob.bitmap)
  if (blob.complete) for (let i = 0; i < chunks; i++) bitmap.set(i)
  return bitmap
}

/** Whether a held blob has chunk `index`, whole or arriving now. */
export function holdsChunk (blob: HeldBlob, index: number): boolean {
  const chunks = chunkCount(Number(blob.size))
  if (!Number.isInteger(index) || index < 0 || index >= chunks) return false
  return blob.complete || new Bitmap(chunks, blob.bitmap).get(index) || new Bitmap(chunks, blob.arriving).get(index)
}

/** A peer's copy of a blob as a downloader sees it. */
export function peerView (id: string, blob: HeldBlob): PeerView {
  const chunks = chunkCount(Number(blob.size))
  const announced = new Map(blob.announced.map(a => [a.index, a.sha256]))
  const arriving = blob.complete || blob.arriving.byteLength === 0 ? undefined : new Bitmap(chunks, blob.arriving)
  return {
    id,
    bitmap: heldChunks(blob),
    ...(announced.size > 0 ? { announced } : {}),
    ...(blob.chunkMap.byteLength > 0 ? { hasMap: true } : {}),
    ...(arriving !== undefined ? { arriving } : {})
  }
}
