import type { Digest } from '../store/index.js'
import type { Bitmap } from '../util/bitmap.js'
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
  /** Reads chunk `index` into memory (at most 16 MiB); undefined when not held. */
  readChunk: (d: Digest, index: number) => Promise<Uint8Array | undefined>
  /** Manifest bytes by the sha256 of those bytes. */
  manifest: (d: Digest) => Promise<Uint8Array | undefined>
  /** The dag-cbor chunk map of blob `d`, when this node has one. */
  chunkMap: (d: Digest) => Promise<Uint8Array | undefined>
}
