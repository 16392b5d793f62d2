import { sendWithBackpressure } from '../../p2p/index.js'
import type { Stream } from '@libp2p/interface'
import type { RateLimiter } from '../../util/rate-limit.js'
import { MAX_CHUNK } from '../../store/index.js'

/** One request per stream: a length-prefixed BlobRequest, answered by a length-prefixed BlobResponse and `length` raw bytes. */
export const BLOB_PROTOCOL = '/ollamad/blob/1.0.0'
export const MAX_REQUEST_BYTES = 4 * 1024
/** A response header holds a bitmap: 64 KiB covers 512k chunks, far past any blob. */
export const MAX_HEADER_BYTES = 64 * 1024
export const MAX_CHUNK_BYTES = MAX_CHUNK
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
/** Bytes handed to the stream per send, so the rate limiter and backpressure act often. */
export const SEND_SLICE = 64 * 1024


/** Bytes per send on the data plane: TLS and the kernel take large writes, and each send is a JavaScript turn. */
export const DATA_SLICE = 512 * 1024

/** Where a body goes: the request's libp2p stream, or a data connection. */
export interface Sink {
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /** Bytes per write, so the rate limiter and backpressure act often. */
  slice: number
}

export const streamSink = (stream: Stream): Sink => ({
  write: async (data, signal) => { await sendWithBackpressure(stream, data, signal) },
  slice: SEND_SLICE
})

/** Sends bytes in slices, waiting on the rate limiter and on the sink's backpressure. */
export async function sendAll (sink: Sink, data: Uint8Array, signal: AbortSignal, limiter?: RateLimiter, onProgress?: () => void): Promise<void> {
  for (let off = 0; off < data.byteLength; off += sink.slice) {
    const slice = data.subarray(off, Math.min(data.byteLength, off + sink.slice))
    await limiter?.take(slice.byteLength, signal)
    await sink.write(slice, signal)
    onProgress?.()
  }
}
