import { DATA_ALPN_INFER, frame, takeFrame, type DataPlane, type RequestHandler } from '../p2p/index.js'
import { OllamadError } from '../errors.js'
import { linkedController } from '../util/abort.js'
import type { Clock } from '../util/clock.js'
import { watchdog } from '../util/watchdog.js'
import { pump } from '../util/pump.js'
import { answerHead, json, parseAnswerHead, MAX_HEAD, type InferAnswer, type InferHead, type InferService } from './infer-protocol.js'

/**
 * Requests whose head and body fit in this go on a data connection; larger ones (a prompt with
 * images) take a libp2p stream, which reads the body only once the request is admitted. It also
 * bounds what one data connection holds unread (twice this).
 */
export const MAX_DATA_INFER_REQUEST = 256 * 1024
/** An answer's pieces are cut to this size at most. */
const MAX_PIECE = 64 * 1024
/** Longest wait for a new data connection to a peer (a LAN answers in milliseconds; a firewall that drops it costs this). */
const DIAL_MS = 2_000
/** No stall limit of our own on an answer (a model may load for long before its first token): the caller's signal ends it. */
const ANSWER_STALL_MS = 24 * 60 * 60 * 1000
const END = frame(new Uint8Array(0))
/** An answer nobody reads ends after this long (each write waits at most this). */
const WRITE_STALL_MS = 60_000

/**
 * Serves inference requests that come on data connections (ALPN ollamad-infer/1), one at a time
 * per connection: the request is one frame (its head frame, then its body); the answer is its head
 * frame, then its bytes in frames as they come, then an empty frame, and the connection takes the
 * next request. A failure mid-answer ends the connection, which the asker sees as a cut answer.
 */
export interface InferDataHandlerInit {
  clock: Clock
  /** Each request taken. */
  onRequest?: () => void
  /** An answer that the asker stops reading for this long ends its connection. @default 60000 */
  writeStallMs?: number
}

export function createInferDataHandler (run: InferService, init: InferDataHandlerInit): RequestHandler {
  const writeStallMs = init.writeStallMs ?? WRITE_STALL_MS
  return async (request, channel) => {
    init.onRequest?.()
    // The answer may be slow to start (a model loading) and to go on: the asker closing the
    // connection ends it, or an answer it stops reading, not the idle timeout.
    const unhold = channel.hold()
    const { ac, release: unlink } = linkedController(channel.signal)
    const stalled = watchdog(init.clock, writeStallMs, () => { ac.abort(new OllamadError('STALLED', `${channel.peer} read none of its answer for ${writeStallMs} ms`)) })
    stalled.stop()
    const write = async (data: Uint8Array): Promise<void> => {
      stalled.kick()
      try { await channel.write(data, ac.signal) } finally { stalled.stop() }
    }
    try {
      const got = takeFrame(request, MAX_HEAD)
      if (got === undefined) throw new OllamadError('PEER_PROTOCOL', 'an inference request without its head')
      const { answer, release } = await run(channel.peer, {
        head: async () => got.frame,
        checked: (head) => { if (head.bodyLength !== got.rest.byteLength) throw new OllamadError('PEER_PROTOCOL', `an inference request declared ${head.bodyLength} body bytes and sent ${got.rest.byteLength}`) },
        body: async () => got.rest
      }, ac.signal)
      try {
        await write(frame(answerHead(answer)))
        const send = async (chunk: Uint8Array): Promise<void> => {
          for (let at = 0; at < chunk.byteLength; at += MAX_PIECE) await write(frame(chunk.subarray(at, at + MAX_PIECE)))
        }
        if (answer.readable !== undefined) await pump(answer.readable, send)
        else for await (const chunk of answer.body) await send(chunk)
        await write(END)
      } finally {
        release()
      }
    } catch (e) {
      // Stop the local work (the queue slot, the upstream request) before the connection goes.
      ac.abort(e)
      throw e
    } finally {
      stalled.stop()
      unlink()
      unhold()
    }
  }
}

/**
 * A request as one frame for a data connection (its head frame, then its body), or undefined when
 * it does not fit in one: such a request goes on a libp2p stream.
 */
export function encodeInferRequest (head: InferHead, body: Uint8Array): Uint8Array | undefined {
  if (body.byteLength > MAX_DATA_INFER_REQUEST) return undefined
  const payload = Buffer.concat([frame(json(head)), body])
  // The holder takes a request frame whose payload is at most this long.
  return payload.byteLength <= MAX_DATA_INFER_REQUEST ? frame(payload) : undefined
}

/** Sends an encoded request on a data connection to `peer`; resolves once the answer's head arrives. DATA_UNREACHABLE: go over libp2p instead. */
export async function sendInferRequest (plane: Pick<DataPlane, 'frames'>, peer: string, request: Uint8Array, signal: AbortSignal): Promise<InferAnswer> {
  const lease = await plane.frames(peer, DATA_ALPN_INFER, request, { signal, dialMs: DIAL_MS })
  // An answer nobody reads to its end closes its connection, also when the caller never starts reading.
  const onAbort = (): void => { lease.done(false) }
  signal.addEventListener('abort', onAbort, { once: true })
  const done = (reuse: boolean): void => { signal.removeEventListener('abort', onAbort); lease.done(reuse) }
  try {
    const h = parseAnswerHead(await lease.conn.next({ signal, maxBytes: MAX_HEAD, stallMs: ANSWER_STALL_MS }))
    const rest = async function * (): AsyncGenerator<Uint8Array> {
      let whole = false
      try {
        // Pieces that came together go on together (a token each: one write each would cost more than it carries).
        while (!whole) {
          const frames = await lease.conn.batch({ signal, maxBytes: MAX_PIECE, stallMs: ANSWER_STALL_MS })
          whole = (frames.at(-1) as Uint8Array).byteLength === 0
          const pieces = whole ? frames.slice(0, -1) : frames
          if (pieces.length > 0) yield pieces.length === 1 ? pieces[0] as Uint8Array : Buffer.concat(pieces)
        }
      } finally {
        done(whole)
      }
    }
    return { ...h, body: rest() }
  } catch (e) {
    done(false)
    throw e
  }
}
