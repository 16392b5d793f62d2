import { sendWithBackpressure } from '../../p2p/index.js'
import type { Stream } from '@libp2p/interface'
import type { Clock, Timer } from '../../util/clock.js'
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


/** Sends bytes in slices, waiting on the rate limiter and on the stream's backpressure. */
export async function sendAll (stream: Stream, data: Uint8Array, signal: AbortSignal, limiter?: RateLimiter, onProgress?: () => void): Promise<void> {
  for (let off = 0; off < data.byteLength; off += SEND_SLICE) {
    const slice = data.subarray(off, Math.min(data.byteLength, off + SEND_SLICE))
    await limiter?.take(slice.byteLength, signal)
    await sendWithBackpressure(stream, slice, signal)
    onProgress?.()
  }
}

/** Aborts when nothing happens for `ms`: each `kick` restarts the wait; `stop` disarms it until the next kick. */
export interface Watchdog { kick: () => void, stop: () => void }

export function watchdog (clock: Clock, ms: number, onFire: () => void): Watchdog {
  // A kick only notes the time (it runs for every piece of a chunk); the one timer re-arms itself
  // for what is left when it wakes early.
  let t: Timer | undefined
  let last = clock.now()
  const check = (): void => {
    const left = last + ms - clock.now()
    t = left > 0 ? clock.setTimeout(check, left) : undefined
    if (left <= 0) onFire()
  }
  const kick = (): void => {
    last = clock.now()
    t ??= clock.setTimeout(check, ms)
  }
  kick()
  return { kick, stop: () => { if (t !== undefined) clock.clearTimeout(t); t = undefined } }
}
