import { BlobRequest, BlobResponse } from '../../../proto/blob.js'
import { OllamadError } from '../../errors.js'
import { chunkRange, MAX_CHUNK_MAP_BYTES, type Digest } from '../../store/index.js'
import type { BufferPool } from '../../util/buffers.js'
import type { LocalBlobs } from '../serving/local-blobs.js'
import type { Arrival } from '../serving/arrivals.js'
import { MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES } from './wire.js'

/**
 * A body, or a chunk still arriving (pinned); `done` releases what it holds once it is sent, told
 * whether every byte written has left this process's queues.
 */
export interface Answer { header: Partial<BlobResponse>, body?: Uint8Array, relay?: Arrival, done?: (flushed: boolean) => void }

const { Status } = BlobResponse
export const answer = (status: BlobResponse.Status, error = ''): Answer => ({ header: { status, error } })

/**
 * What this node answers to a request, by digest only: bitmaps, verified chunks (read into the
 * reused buffers of `reads`), chunks still arriving, manifests and chunk maps.
 */
export function createLookup (local: LocalBlobs, reads: BufferPool): (req: BlobRequest, d: Digest) => Promise<Answer> {
  return async (req, d) => {
    switch (req.kind) {
      case BlobRequest.Kind.HAVE: {
        const h = await local.have(d)
        if (h === undefined) return answer(Status.NOT_FOUND)
        return { header: { status: Status.OK, size: BigInt(h.size), bitmap: new Uint8Array(h.bitmap.bytes), complete: h.complete } }
      }
      case BlobRequest.Kind.CHUNK: {
        const arrival = local.arrival?.(d, req.index)
        if (arrival !== undefined && arrival.state === 'arriving' && arrival.length <= MAX_CHUNK_BYTES) {
          // Pinned at once: the download may not reuse the buffer while we read it.
          return { header: { status: Status.OK, length: BigInt(arrival.length) }, relay: arrival, done: arrival.pin() }
        }
        const h = await local.have(d)
        if (h === undefined || req.index >= h.bitmap.length || !h.bitmap.get(req.index)) return answer(Status.NOT_FOUND)
        const { start, end } = chunkRange(h.size, req.index)
        // Chunks are read into reused buffers: a fresh 4-16 MiB one per chunk costs page faults and GC.
        const buf = reads.take(end - start)
        const data = await local.readChunk(d, req.index, buf).catch((e: unknown) => { reads.give(buf); throw e })
        if (data === undefined) { reads.give(buf); return answer(Status.NOT_FOUND) }
        if (data.byteLength !== end - start || data.byteLength > MAX_CHUNK_BYTES) {
          throw new OllamadError('INTERNAL', `chunk ${req.index} of ${d} read as ${data.byteLength} bytes, not ${end - start}`)
        }
        return { header: { status: Status.OK, size: BigInt(h.size), length: BigInt(data.byteLength) }, body: data, done: () => { reads.give(buf) } }
      }
      case BlobRequest.Kind.MANIFEST:
      case BlobRequest.Kind.CHUNK_MAP: {
        const isManifest = req.kind === BlobRequest.Kind.MANIFEST
        const data = isManifest ? await local.manifest(d) : await local.chunkMap(d)
        if (data === undefined) return answer(Status.NOT_FOUND)
        if (data.byteLength > (isManifest ? MAX_MANIFEST_BYTES : MAX_CHUNK_MAP_BYTES)) {
          throw new OllamadError('SIZE_LIMIT', `${isManifest ? 'manifest' : 'chunk map'} ${d} is ${data.byteLength} bytes`)
        }
        return { header: { status: Status.OK, length: BigInt(data.byteLength) }, body: data }
      }
      default:
        return answer(Status.BAD_REQUEST, 'unknown request kind')
    }
  }
}
