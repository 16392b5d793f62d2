import { frame, readFrame, sendWithBackpressure } from '../../p2p/index.js'
import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { BlobRequest, BlobResponse } from '../../../proto/blob.js'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Clock } from '../../util/clock.js'
import { createSlots } from '../../util/slots.js'
import type { Logger } from '../../util/logger.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import { chunkRange, digestFromBytes, MAX_CHUNK_MAP_BYTES, type Digest } from '../../store/index.js'
import type { LocalBlobs } from '../serving/local-blobs.js'
import type { Arrival } from '../serving/arrivals.js'
import { createBufferPool } from '../../util/buffers.js'
import type { DataPlane } from '../../p2p/index.js'
import {
  DATA_SLICE, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, MAX_REQUEST_BYTES, SEND_SLICE, sendAll, streamSink, type Sink
} from './wire.js'
import { watchdog } from '../../util/watchdog.js'


export interface BlobServerComponents {
  local: LocalBlobs
  clock: Clock
  /** The upload cap shared by every stream this node serves. */
  limiter?: RateLimiter
  log?: Logger
  /** Where chunk bytes go when the asker can take them there (see p2p/data). */
  data?: Pick<DataPlane, 'offer'>
}

export interface BlobServerInit {
  /** Streams served at once, over all peers; more are answered BUSY. @default 32 */
  maxConcurrent?: number
  /** Time a peer has to send its request. @default 10000 */
  requestTimeoutMs?: number
  /** Longest wait for a slow reader to take more bytes before the stream is dropped. @default 30000 */
  stallTimeoutMs?: number
  /**
   * Chunks sent at once; later requests wait their turn. Few at full speed rather than many
   * slowly: a chunk can be passed on only once it is whole, so with many downloaders the sooner
   * each one lands the sooner others can take it from there (and a downloader races a queued
   * request on any holder that gets the chunk meanwhile). Two, so one slow reader cannot hold
   * the uplink alone. @default 2
   */
  uploadSlots?: number
  /** Longest wait for an upload slot before the request is answered BUSY (below the clients' 30 s stall time). @default 25000 */
  slotWaitMs?: number
}

export const DEFAULT_MAX_CONCURRENT = 32
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
export const DEFAULT_SERVE_STALL_MS = 30_000
export const DEFAULT_UPLOAD_SLOTS = 2
export const DEFAULT_SLOT_WAIT_MS = 25_000

/** A libp2p stream handler for BLOB_PROTOCOL; `active` counts the streams being served. */
export interface BlobProtocolHandler {
  (stream: Stream, connection?: Connection): Promise<void>
  active: () => number
}

/** A body, or a chunk still arriving (pinned); `done` releases what it holds once it is sent. */
type Answer = { header: Partial<BlobResponse>, body?: Uint8Array, relay?: Arrival, done?: () => void }

const { Status } = BlobResponse
const answer = (status: BlobResponse.Status, error = ''): Answer => ({ header: { status, error } })

/**
 * Serves what this node holds, by digest only: bitmaps, verified chunks, manifests and chunk maps.
 * Every request is bounded and validated before anything is looked up.
 */
export function createBlobProtocolHandler (c: BlobServerComponents, init: BlobServerInit = {}): BlobProtocolHandler {
  const maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
  const requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const stallMs = init.stallTimeoutMs ?? DEFAULT_SERVE_STALL_MS
  const slots = createSlots(init.uploadSlots ?? DEFAULT_UPLOAD_SLOTS, c.clock)
  const slotWaitMs = init.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS
  const reads = createBufferPool(0, init.uploadSlots ?? DEFAULT_UPLOAD_SLOTS)
  let active = 0

  const lookup = async (req: BlobRequest, d: Digest): Promise<Answer> => {
    switch (req.kind) {
      case BlobRequest.Kind.HAVE: {
        const h = await c.local.have(d)
        if (h === undefined) return answer(Status.NOT_FOUND)
        return { header: { status: Status.OK, size: BigInt(h.size), bitmap: new Uint8Array(h.bitmap.bytes), complete: h.complete } }
      }
      case BlobRequest.Kind.CHUNK: {
        const arrival = c.local.arrival?.(d, req.index)
        if (arrival !== undefined && arrival.state === 'arriving' && arrival.length <= MAX_CHUNK_BYTES) {
          // Pinned at once: the download may not reuse the buffer while we read it.
          return { header: { status: Status.OK, length: BigInt(arrival.length) }, relay: arrival, done: arrival.pin() }
        }
        const h = await c.local.have(d)
        if (h === undefined || req.index >= h.bitmap.length || !h.bitmap.get(req.index)) return answer(Status.NOT_FOUND)
        const { start, end } = chunkRange(h.size, req.index)
        // Chunks are read into reused buffers: a fresh 4-16 MiB one per chunk costs page faults and GC.
        const buf = reads.take(end - start)
        const data = await c.local.readChunk(d, req.index, buf).catch((e: unknown) => { reads.give(buf); throw e })
        if (data === undefined) { reads.give(buf); return answer(Status.NOT_FOUND) }
        if (data.byteLength !== end - start || data.byteLength > MAX_CHUNK_BYTES) {
          throw new OllamadError('INTERNAL', `chunk ${req.index} of ${d} read as ${data.byteLength} bytes, not ${end - start}`)
        }
        return { header: { status: Status.OK, size: BigInt(h.size), length: BigInt(data.byteLength) }, body: data, done: () => { reads.give(buf) } }
      }
      case BlobRequest.Kind.MANIFEST:
      case BlobRequest.Kind.CHUNK_MAP: {
        const isManifest = req.kind === BlobRequest.Kind.MANIFEST
        const data = isManifest ? await c.local.manifest(d) : await c.local.chunkMap(d)
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

  const sendBody = async (sink: Sink, a: Answer, signal: AbortSignal, kick: () => void): Promise<void> => {
    if (a.body !== undefined) await sendAll(sink, a.body, signal, c.limiter, kick)
    if (a.relay !== undefined) await relay(sink, a.relay, signal, kick)
  }

  const reply = async (stream: Stream, a: Answer, signal: AbortSignal, kick: () => void): Promise<void> => {
    try {
      await sendWithBackpressure(stream, frame(BlobResponse.encode(a.header)), signal)
      await sendBody(streamSink(stream), a, signal, kick)
      await stream.close({ signal })
    } finally {
      a.done?.()
    }
  }

  /**
   * The header and a ticket on the stream, the bytes on the data connection that presents the
   * ticket. The stream stays open meanwhile: the asker ends it if it gives up.
   */
  const replyOnDataPlane = async (data: Pick<DataPlane, 'offer'>, peer: string, stream: Stream, a: Answer, signal: AbortSignal, kick: () => void): Promise<void> => {
    try {
      const offer = data.offer(peer, requestTimeoutMs, signal)
      offer.connection.catch(() => {})
      await sendWithBackpressure(stream, frame(BlobResponse.encode({ ...a.header, ticket: offer.ticket, dataPort: offer.port })), signal)
      const conn = await offer.connection
      kick()
      try {
        await sendBody({ write: conn.write, slice: DATA_SLICE }, a, signal, kick)
      } catch (e) {
        conn.destroy()
        throw e
      }
      conn.release()
      await stream.close({ signal })
    } finally {
      a.done?.()
    }
  }

  /** Sends a chunk as it arrives, in slices; the last slice only once the chunk passed its check. */
  const relay = async (sink: Sink, a: Arrival, signal: AbortSignal, kick: () => void): Promise<void> => {
    const held = Math.max(0, a.length - SEND_SLICE)
    let sent = 0
    while (sent < a.length) {
      if (a.state === 'failed') throw new OllamadError('PEER_UNAVAILABLE', 'the chunk being relayed failed its check or was dropped')
      const ready = a.state === 'landed' ? a.length : Math.min(a.got, held)
      // Whole slices while bytes trickle in: one send per socket read would cost more than it saves.
      if (ready > sent && (ready - sent >= SEND_SLICE || ready === held || ready === a.length)) {
        await sendAll(sink, a.buf.subarray(sent, ready), signal, c.limiter, kick)
        sent = ready
      } else {
        await a.changed(signal)
      }
    }
  }

  const handler = async (stream: Stream, connection?: Connection): Promise<void> => {
    const peer = connection?.remotePeer.toString() ?? 'a peer'
    const ac = new AbortController()
    const onClose = (): void => { ac.abort(new OllamadError('ABORTED', 'stream closed')) }
    stream.addEventListener('close', onClose)
    let dog = watchdog(c.clock, requestTimeoutMs, () => { ac.abort(new OllamadError('STALLED', `no request from ${peer} in ${requestTimeoutMs} ms`)) })
    const serving = active < maxConcurrent
    if (serving) active++
    let release: (() => void) | undefined
    try {
      if (!serving) { await reply(stream, answer(Status.BUSY, 'too many streams'), ac.signal, dog.kick); return }
      // A peer that keeps sending after its request overflows this small buffer and is cut off.
      const bs = byteStream(stream, { maxBufferSize: 2 * MAX_REQUEST_BYTES })
      let req: BlobRequest | undefined
      try {
        req = BlobRequest.decode(await readFrame(bs, MAX_REQUEST_BYTES, ac.signal))
        if (req.digest.byteLength !== 32) req = undefined
      } catch {
        if (ac.signal.aborted) throw ac.signal.reason
        req = undefined
      }
      dog.stop()
      if (req?.kind === BlobRequest.Kind.CHUNK) {
        release = await slots.acquire(slotWaitMs, ac.signal)
        if (release === undefined) { await reply(stream, answer(Status.BUSY, 'every upload slot is taken'), ac.signal, () => {}); return }
      }
      dog = watchdog(c.clock, stallMs, () => { ac.abort(new OllamadError('STALLED', `${peer} took no data for ${stallMs} ms`)) })
      let a: Answer
      if (req === undefined) {
        a = answer(Status.BAD_REQUEST, 'malformed request')
      } else {
        try {
          a = await lookup(req, digestFromBytes(req.digest))
        } catch (e) {
          c.log?.error(`serving ${req.kind} of ${Buffer.from(req.digest).toString('hex')} to ${peer}: ${errorMessage(e)}`)
          a = answer(Status.NOT_FOUND, 'cannot read it')
        }
      }
      if (a.relay !== undefined) c.log?.debug(`relaying chunk ${req?.index} of ${Buffer.from(req?.digest ?? []).toString('hex')} to ${peer} as it arrives`)
      if (c.data !== undefined && connection !== undefined && req?.dataPlane === true && (a.body !== undefined || a.relay !== undefined)) {
        await replyOnDataPlane(c.data, peer, stream, a, ac.signal, dog.kick)
      } else {
        await reply(stream, a, ac.signal, dog.kick)
      }
    } catch (e) {
      c.log?.debug(`blob stream from ${peer} dropped: ${errorMessage(e)}`)
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    } finally {
      dog.stop()
      release?.()
      stream.removeEventListener('close', onClose)
      if (serving) active--
    }
  }
  return Object.assign(handler, { active: () => active })
}
