import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { frame, framedLength, readFrame, sendWithBackpressure, waitForWritable } from '../p2p/index.js'
import { OllamadError, errorMessage } from '../errors.js'
import type { Logger } from '../util/logger.js'
import { pump } from '../util/pump.js'
import { answerHead, json, parseAnswerHead, MAX_HEAD, MAX_INFER_BODY, type InferAnswer, type InferHead, type InferService } from './infer-protocol.js'

/** Bytes a peer may send past the head before the head is read: frames that came in the same read. */
const PRE_HEAD_SLACK = 1024 * 1024
const SEND_HIGH_WATER = 256 * 1024

/** Serves inference requests that come on libp2p streams (/ollamad/infer/1.0.0): one request per stream, the answer's bytes until it closes. */
export function createInferHandler (run: InferService, log: Logger, onRequest?: () => void) {
  return async (stream: Stream, connection?: Connection): Promise<void> => {
    onRequest?.()
    const ac = new AbortController()
    const onClose = (): void => { ac.abort(new OllamadError('ABORTED', 'stream closed')) }
    stream.addEventListener('close', onClose)
    // A peer may send the head and the body it declares, nothing more: what it holds here is what it declared.
    let received = 0
    let allowed = MAX_HEAD + 4 + PRE_HEAD_SLACK
    const onMessage = (evt: { data: { byteLength: number } }): void => {
      received += evt.data.byteLength
      if (received > allowed) stream.abort(new OllamadError('PEER_PROTOCOL', `sent more than the ${allowed} bytes its request declared`))
    }
    stream.addEventListener('message', onMessage)
    try {
      const bs = byteStream(stream, { maxBufferSize: MAX_INFER_BODY + MAX_HEAD })
      const { answer, release } = await run(connection?.remotePeer.toString() ?? '', {
        head: async () => await readFrame(bs, MAX_HEAD, ac.signal),
        checked: (head, rawLength) => {
          allowed = framedLength(rawLength) + head.bodyLength
          if (received > allowed) throw new OllamadError('PEER_PROTOCOL', `sent more than the ${allowed} bytes its request declared`)
        },
        body: async (head) => head.bodyLength === 0 ? new Uint8Array(0) : (await bs.read({ bytes: head.bodyLength, signal: ac.signal })).subarray()
      }, ac.signal)
      try {
        await sendWithBackpressure(stream, frame(answerHead(answer)), ac.signal)
        // Answers come in many small pieces (a token each): one frame per batch, and a wait only when a lot is queued.
        const send = async (chunk: Uint8Array): Promise<void> => {
          if (chunk.byteLength === 0) return
          stream.send(chunk)
          if (stream.writeBufferLength > SEND_HIGH_WATER) await waitForWritable(stream, 0, ac.signal)
        }
        if (answer.readable !== undefined) await pump(answer.readable, send)
        else for await (const chunk of answer.body) await send(chunk)
        await waitForWritable(stream, 0, ac.signal)
        await stream.close({ signal: ac.signal })
      } finally {
        release()
      }
    } catch (e) {
      log.debug(`inference stream dropped: ${errorMessage(e)}`)
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    } finally {
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('message', onMessage)
    }
  }
}

/** Sends a request to a peer on a libp2p stream; resolves once the answer's head arrives (a failure before it is the caller's cue to try another node). */
export async function requestInfer (dial: (signal: AbortSignal) => Promise<Stream>, head: InferHead, body: Uint8Array, signal: AbortSignal): Promise<InferAnswer> {
  const stream = await dial(signal)
  try {
    const bs = byteStream(stream, { maxBufferSize: 16 * 1024 * 1024 })
    await sendWithBackpressure(stream, frame(json(head)), signal)
    if (body.byteLength > 0) await sendWithBackpressure(stream, body, signal)
    const h = parseAnswerHead(await readFrame(bs, MAX_HEAD, signal))
    const rest = async function * (): AsyncGenerator<Uint8Array> {
      for (;;) {
        const list = await bs.read({ signal })
        if (list === null) break
        yield list.subarray()
      }
      await stream.close().catch(() => {})
    }
    return { ...h, body: rest() }
  } catch (e) {
    stream.abort(e instanceof Error ? e : new Error(String(e)))
    throw e
  }
}
