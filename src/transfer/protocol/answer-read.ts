import { BlobRequest, BlobResponse } from '../../../proto/blob.js'
import { OllamadError, isOllamadError } from '../../errors.js'
import { frame, type DataPlane } from '../../p2p/index.js'
import { linkedController } from '../../util/abort.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import { MAX_HEADER_BYTES } from './wire.js'

/** What a request's answer is read into and what it tells of it, on a stream or a data connection. */
export interface RequestOptions { signal?: AbortSignal }

export interface ChunkOptions extends RequestOptions {
  /** A download cap: when it owes time, the stream is paused and the stall clock stopped meanwhile. */
  limiter?: RateLimiter
  /** Called as each piece of the body arrives (for progress). */
  onBytes?: (bytes: number) => void
  /** Longest silence for this request, instead of the client's. */
  stallMs?: number
  /**
   * Where to put the body (at least the expected length), asked for once the peer begins to serve:
   * a download takes its chunk buffers from a pool only then, so requests waiting in a peer's
   * queue hold none.
   */
  into?: () => Uint8Array
  /** The peer has begun to serve it (its header came, so it no longer waits for an upload slot). */
  onStart?: () => void
}

export interface Answer { header: BlobResponse, body: Uint8Array }

const { Status } = BlobResponse

export function decodeHeader (peer: string, bytes: Uint8Array): BlobResponse {
  try {
    return BlobResponse.decode(bytes)
  } catch (e) {
    // A header that does not decode (an unknown status, say) is the peer's fault.
    throw new OllamadError('PEER_PROTOCOL', `${peer} sent a bad header: ${(e as Error).message}`)
  }
}

/** The header's verdict: the body's room for OK (the peer begins to serve), undefined for NOT_FOUND, an error for the rest. */
export function bodyFor (peer: string, header: BlobResponse, want: { maxBody: number, exact: boolean }, o: ChunkOptions): Uint8Array | undefined {
  if (header.status === Status.NOT_FOUND) return undefined
  if (header.status === Status.BUSY) throw new OllamadError('PEER_BUSY', `${peer} is busy`)
  if (header.status !== Status.OK) throw new OllamadError('PEER_PROTOCOL', `${peer} refused the request: ${header.error.slice(0, 200)}`)
  if (header.length > BigInt(want.maxBody) || (want.exact && header.length !== BigInt(want.maxBody))) {
    throw new OllamadError('PEER_PROTOCOL', `${peer} announced ${header.length} bytes where ${want.exact ? '' : 'at most '}${want.maxBody} were expected`)
  }
  o.onStart?.()
  const len = Number(header.length)
  const into = o.into?.()
  return into !== undefined && into.byteLength >= len ? into.subarray(0, len) : new Uint8Array(len)
}

/** A request's failure as the caller sees it: ABORTED when it gave up, the peer's error, or PEER_UNAVAILABLE. */
export function requestFailure (peer: string, e: unknown, o: RequestOptions): OllamadError {
  if (o.signal?.aborted === true) return new OllamadError('ABORTED', 'request aborted', { cause: o.signal.reason })
  if (isOllamadError(e)) return e
  return new OllamadError('PEER_UNAVAILABLE', `${peer}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
}

/**
 * One request on a data connection to the peer's data port, answered on it: no libp2p stream.
 * NOT_FOUND comes back as undefined, other refusals as errors (the connection stays usable).
 */
export async function requestDirect (data: Pick<DataPlane, 'exchange'>, peer: string, req: BlobRequest, want: { maxBody: number, exact: boolean, stallMs: number }, o: ChunkOptions): Promise<Answer | undefined> {
  const { ac, release } = linkedController(o.signal)
  let header: BlobResponse | undefined
  let body: Uint8Array | undefined
  try {
    await data.exchange(peer, frame(BlobRequest.encode({ ...req, dataPlane: false })), {
      signal: ac.signal,
      stallMs: want.stallMs,
      maxHeaderBytes: MAX_HEADER_BYTES,
      onBytes: (n) => { o.onBytes?.(n); return o.limiter?.reserve(n) ?? 0 },
      body: (bytes) => {
        header = decodeHeader(peer, bytes)
        if (header.ticket.byteLength > 0) throw new OllamadError('PEER_PROTOCOL', `${peer} offered a data ticket on a data connection`)
        // A refusal has no body and leaves the connection usable; its error is thrown below.
        if (header.status !== Status.OK) return new Uint8Array(0)
        body = bodyFor(peer, header, want, o)
        return body ?? new Uint8Array(0)
      }
    })
    if (header === undefined) throw new OllamadError('PEER_PROTOCOL', `${peer} answered without a header`)
    if (header.status !== Status.OK) bodyFor(peer, header, want, o)
    return body === undefined ? undefined : { header, body }
  } catch (e) {
    throw requestFailure(peer, ac.signal.aborted ? ac.signal.reason : e, o)
  } finally {
    release()
  }
}
