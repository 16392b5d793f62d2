import { frame, readFrame, sendWithBackpressure } from '../../p2p/index.js'
import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { BlobRequest, BlobResponse } from '../../../proto/blob.js'
import { OllamadError, errorMessage } from '../../errors.js'
import { createSlots } from '../../util/slots.js'
import { digestFromBytes, digestHex } from '../../store/index.js'
import type { Arrival } from '../serving/arrivals.js'
import { createBufferPool } from '../../util/buffers.js'
import type { DataPlane, RequestHandler } from '../../p2p/index.js'
import { DEFAULT_MAX_CONCURRENT, NON_CHUNK_ROOM, DEFAULT_QUEUE_AGE_MS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_SERVE_STALL_MS, DEFAULT_SLOT_WAIT_MS, DEFAULT_UPLOAD_SLOTS, type BlobServerComponents, type BlobServerInit } from './server-options.js'
import { DATA_SLICE, MAX_REQUEST_BYTES, SEND_SLICE, sendAll, streamSink, type Sink } from './wire.js'
import { watchdog, type Watchdog } from '../../util/watchdog.js'
import { linkedController } from '../../util/abort.js'
import { answer, createLookup, type Answer } from './lookup.js'
import { createRecentSends } from './recent-sends.js'

export type { BlobServerComponents, BlobServerInit } from './server-options.js'

/**
 * A libp2p stream handler for BLOB_PROTOCOL; `onData` answers the same requests made on data
 * connections (register it with the data plane); `active` counts the requests being served.
 */
export interface BlobProtocolHandler {
  (stream: Stream, connection?: Connection): Promise<void>
  onData: RequestHandler
  active: () => number
}

const { Status } = BlobResponse

/** A request's bytes, or undefined when they are not a request for a valid digest. */
const parseRequest = (bytes: Uint8Array): BlobRequest | undefined => {
  try {
    const req = BlobRequest.decode(bytes)
    return req.digest.byteLength === 32 ? req : undefined
  } catch {
    return undefined
  }
}

/**
 * Serves what this node holds, by digest only: bitmaps, verified chunks, manifests and chunk maps.
 * Every request is bounded and validated before anything is looked up.
 */
export function createBlobProtocolHandler (c: BlobServerComponents, init: BlobServerInit = {}): BlobProtocolHandler {
  const maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
  const maxChunks = init.maxChunkRequests ?? Math.max(1, maxConcurrent - NON_CHUNK_ROOM)
  const requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const stallMs = init.stallTimeoutMs ?? DEFAULT_SERVE_STALL_MS
  const slots = createSlots(init.uploadSlots ?? DEFAULT_UPLOAD_SLOTS, c.clock)
  const slotWaitMs = init.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS
  const queueAgeMs = init.queueAgeMs ?? DEFAULT_QUEUE_AGE_MS
  const lookup = createLookup(c.local, createBufferPool(0, init.uploadSlots ?? DEFAULT_UPLOAD_SLOTS))
  const recent = createRecentSends(c.clock)
  let active = 0
  let chunksActive = 0

  const sendBody = async (sink: Sink, a: Answer, signal: AbortSignal, kick: () => void): Promise<void> => {
    if (a.body !== undefined) await sendAll(sink, a.body, signal, c.limiter, kick)
    if (a.relay !== undefined) await relay(sink, a.relay, signal, kick)
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

  /**
   * One request that was admitted, however it came: an upload slot for a chunk (BUSY when none
   * frees in time), the lookup, then `send` with the answer; a stalled send aborts `ac`. What the
   * answer holds is released once it is sent; `send` says whether its bytes left our queues.
   */
  const serve = async (peer: string, req: BlobRequest | undefined, ac: AbortController, send: (a: Answer, kick: () => void) => Promise<boolean>): Promise<void> => {
    let release: (() => void) | undefined
    let dog: Watchdog | undefined
    const d = req === undefined ? undefined : digestFromBytes(req.digest)
    const chunk = req?.kind === BlobRequest.Kind.CHUNK && d !== undefined ? req.index : undefined
    if (chunk !== undefined && chunksActive >= maxChunks) { await send(answer(Status.BUSY, 'too many chunk requests'), () => {}); return }
    if (chunk !== undefined) chunksActive++
    try {
      if (chunk !== undefined && d !== undefined) {
        const { holders } = c
        const since = c.clock.now()
        // Peers we just sent it to hold it before their records say so.
        const held = (): number => Math.max(holders?.(d, chunk) ?? 0, recent.count(d, chunk, peer))
        release = await slots.acquire(slotWaitMs, ac.signal, () => held() - (c.clock.now() - since) / queueAgeMs)
        if (release === undefined) { await send(answer(Status.BUSY, 'every upload slot is taken'), () => {}); return }
      }
      dog = watchdog(c.clock, stallMs, () => { ac.abort(new OllamadError('STALLED', `${peer} took no data for ${stallMs} ms`)) })
      let a: Answer
      if (req === undefined || d === undefined) {
        a = answer(Status.BAD_REQUEST, 'malformed request')
      } else {
        try {
          a = await lookup(req, d)
        } catch (e) {
          c.log?.error(`serving ${req.kind} of ${digestHex(d)} to ${peer}: ${errorMessage(e)}`)
          a = answer(Status.NOT_FOUND, 'cannot read it')
        }
      }
      if (a.relay !== undefined && d !== undefined) c.log?.debug(`relaying chunk ${req?.index} of ${digestHex(d)} to ${peer} as it arrives`)
      let flushed = false
      try {
        flushed = await send(a, dog.kick)
        if (chunk !== undefined && d !== undefined && a.header.status === Status.OK) recent.sent(d, chunk, peer)
      } finally {
        a.done?.(flushed)
      }
    } finally {
      dog?.stop()
      release?.()
      if (chunk !== undefined) chunksActive--
    }
  }

  /** Counts a request (from the moment its stream opens) while under the cap. */
  const admit = (): boolean => {
    if (active >= maxConcurrent) return false
    active++
    return true
  }

  /** On the stream: the header, the body, the end of the stream. */
  const reply = async (stream: Stream, a: Answer, signal: AbortSignal, kick: () => void): Promise<void> => {
    await sendWithBackpressure(stream, frame(BlobResponse.encode(a.header)), signal)
    await sendBody(streamSink(stream), a, signal, kick)
    await stream.close({ signal })
  }

  /**
   * The header and a ticket on the stream, the bytes on the data connection that presents the
   * ticket (an asker that cannot send its requests on the data plane). The stream stays open
   * meanwhile: the asker ends it if it gives up.
   */
  const replyWithTicket = async (data: Pick<DataPlane, 'offer'>, peer: string, stream: Stream, a: Answer, signal: AbortSignal, kick: () => void): Promise<true> => {
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
    return true
  }

  const handler = async (stream: Stream, connection?: Connection): Promise<void> => {
    const peer = connection?.remotePeer.toString() ?? 'a peer'
    const ac = new AbortController()
    const onClose = (): void => { ac.abort(new OllamadError('ABORTED', 'stream closed')) }
    stream.addEventListener('close', onClose)
    const dog = watchdog(c.clock, requestTimeoutMs, () => { ac.abort(new OllamadError('STALLED', `no request from ${peer} in ${requestTimeoutMs} ms`)) })
    const admitted = admit()
    try {
      if (!admitted) { await reply(stream, answer(Status.BUSY, 'too many streams'), ac.signal, () => {}); return }
      // A peer that keeps sending after its request overflows this small buffer and is cut off.
      const bs = byteStream(stream, { maxBufferSize: 2 * MAX_REQUEST_BYTES })
      let req: BlobRequest | undefined
      try {
        req = parseRequest(await readFrame(bs, MAX_REQUEST_BYTES, ac.signal))
      } catch {
        if (ac.signal.aborted) throw ac.signal.reason
      }
      dog.stop()
      c.onRequest?.('stream')
      const ticketed = c.data !== undefined && connection !== undefined && req?.dataPlane === true
      await serve(peer, req, ac, async (a, kick) => {
        if (ticketed && c.data !== undefined && (a.body !== undefined || a.relay !== undefined)) return await replyWithTicket(c.data, peer, stream, a, ac.signal, kick)
        // A libp2p stream may still hold slices in its queues after close.
        await reply(stream, a, ac.signal, kick)
        return false
      })
    } catch (e) {
      c.log?.debug(`blob stream from ${peer} dropped: ${errorMessage(e)}`)
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    } finally {
      dog.stop()
      stream.removeEventListener('close', onClose)
      if (admitted) active--
    }
  }

  /** On a data connection: the header, then the body; the connection then takes the next request. */
  const onData: RequestHandler = async (bytes, channel) => {
    const { ac, release } = linkedController(channel.signal)
    const send = async (a: Answer, kick: () => void): Promise<boolean> => {
      await channel.write(frame(BlobResponse.encode(a.header)), ac.signal)
      await sendBody({ write: channel.write, slice: DATA_SLICE }, a, ac.signal, kick)
      return true
    }
    const admitted = admit()
    try {
      if (!admitted) await send(answer(Status.BUSY, 'too many requests'), () => {})
      else {
        c.onRequest?.('data')
        await serve(channel.peer, parseRequest(bytes), ac, send)
      }
    } finally {
      if (admitted) active--
      release()
    }
  }

  return Object.assign(handler, { onData, active: () => active })
}
