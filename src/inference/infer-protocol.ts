import type { Connection, Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { frame, framedLength, readFrame, sendWithBackpressure, waitForWritable } from '../p2p/index.js'
import { OllamadError, errorMessage, isOllamadError } from '../errors.js'
import { INFERENCE_ROUTES } from './constants.js'
import type { Logger } from '../util/logger.js'
import { pump } from '../util/pump.js'

/**
 * An inference request carried to the serving node over the swarm (so no extra port, and the
 * swarm key protects it): a JSON head frame, the body, then the answer's head frame and its
 * bytes as they stream, until the serving side closes.
 */
export const INFER_PROTOCOL = '/ollamad/infer/1.0.0'
export const MAX_INFER_BODY = 32 * 1024 * 1024
const MAX_HEAD = 64 * 1024
/** Bytes a peer may send past the head before the head is read: frames that came in the same read. */
const PRE_HEAD_SLACK = 1024 * 1024
const SEND_HIGH_WATER = 256 * 1024

export interface InferHead {
  method: string
  path: string
  contentType: string
  /** high, normal or low (X-Ollamad-Priority). */
  priority: string
  model: string
  bodyLength: number
  /** The ollamad instances the request already passed (X-Ollamad-Forwarded), so loops are caught. */
  via?: string
}

export interface InferAnswer {
  status: number
  contentType: string
  /** Seconds, for a 503 from a full queue. */
  retryAfter?: number
  /** The serving node's name. */
  node: string
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
  /** The same body as a Node stream, when it is one (a local answer): piped natively, which is cheaper per chunk. */
  readable?: NodeJS.ReadableStream
}

/** Runs one request on this node (its queue, a lazy fetch unless `fetch` is false, its Ollama). */
export type LocalServe = (head: InferHead, body: Uint8Array, signal: AbortSignal, o?: { fetch?: boolean }) => Promise<InferAnswer>

const json = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o))
const parseHead = <T>(b: Uint8Array, what: string): T => {
  try { return JSON.parse(new TextDecoder().decode(b)) as T } catch { throw new OllamadError('PEER_PROTOCOL', `malformed ${what}`) }
}

function checkHead (h: Partial<InferHead>): InferHead {
  // A member may run inference here, nothing else: no deletes, pulls or copies on this node's Ollama.
  if (typeof h.method === 'string' && typeof h.path === 'string' && (h.method !== 'POST' || !INFERENCE_ROUTES.includes(h.path))) {
    throw new OllamadError('FORBIDDEN', `the inference protocol carries only POST to ${INFERENCE_ROUTES.join(', ')}, not ${h.method.slice(0, 16)} ${h.path.slice(0, 256)}`)
  }
  if (typeof h.method !== 'string' || typeof h.path !== 'string' || !h.path.startsWith('/') || h.path.length > 256 ||
    typeof h.model !== 'string' || h.model.length > 1024 || !Number.isInteger(h.bodyLength) || (h.bodyLength as number) < 0 || (h.bodyLength as number) > MAX_INFER_BODY) {
    throw new OllamadError('PEER_PROTOCOL', 'malformed inference request')
  }
  return { method: h.method, path: h.path, model: h.model, bodyLength: h.bodyLength as number, contentType: String(h.contentType ?? 'application/json').slice(0, 200), priority: String(h.priority ?? 'normal').slice(0, 16), via: String(h.via ?? '').slice(0, 4096) }
}

/** Bounds on what peers' inference requests may hold here at once (each stream buffers up to its body). */
export interface InferLimits {
  /** Streams open at once, from one peer and from all. */
  perPeer: number
  total: number
  /** Body bytes declared by the requests in flight, from all peers. */
  bodyBytes: number
}
export const DEFAULT_INFER_LIMITS: InferLimits = { perPeer: 16, total: 64, bodyBytes: 256 * 1024 * 1024 }

const busy = (message: string): InferAnswer => ({ status: 503, contentType: 'application/json', node: '', retryAfter: 1, body: [json({ error: message })] })

/** Serves inference requests that other nodes route here. */
export function createInferHandler (serve: LocalServe, log: Logger, limits: InferLimits = DEFAULT_INFER_LIMITS) {
  const open = new Map<string, number>()
  let total = 0
  let bodies = 0
  return async (stream: Stream, connection?: Connection): Promise<void> => {
    const ac = new AbortController()
    const onClose = (): void => { ac.abort(new OllamadError('ABORTED', 'stream closed')) }
    stream.addEventListener('close', onClose)
    const peer = connection?.remotePeer.toString() ?? ''
    const mine = open.get(peer) ?? 0
    const admitted = mine < limits.perPeer && total < limits.total
    if (admitted) { open.set(peer, mine + 1); total++ }
    let reserved = 0
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
      let answer: InferAnswer | undefined
      let head: InferHead | undefined
      try {
        const raw = await readFrame(bs, MAX_HEAD, ac.signal)
        head = checkHead(parseHead<Partial<InferHead>>(raw, 'inference request'))
        allowed = framedLength(raw.byteLength) + head.bodyLength
        if (received > allowed) throw new OllamadError('PEER_PROTOCOL', `sent more than the ${allowed} bytes its request declared`)
      } catch (e) {
        if (!isOllamadError(e, 'FORBIDDEN')) throw e
        log.info(`refused from ${connection?.remotePeer.toString() ?? 'a peer'}: ${e.message}`)
        answer = { status: 403, contentType: 'application/json', node: '', body: [json({ error: e.message })] }
      }
      if (!admitted) answer = busy(`busy: ${limits.perPeer} inference streams from one node, ${limits.total} in all, are open here`)
      else if (head !== undefined && bodies + head.bodyLength > limits.bodyBytes) answer = busy('busy: too many inference request bodies in flight here')
      else if (head !== undefined) { reserved = head.bodyLength; bodies += reserved }
      if (answer === undefined && head !== undefined) {
        const body = head.bodyLength === 0 ? new Uint8Array(0) : (await bs.read({ bytes: head.bodyLength, signal: ac.signal })).subarray()
        try {
          answer = await serve(head, body, ac.signal)
        } catch (e) {
          const status = e instanceof OllamadError && e.code === 'MODEL_NOT_FOUND' ? 404 : 502
          answer = { status, contentType: 'application/json', node: '', body: [json({ error: errorMessage(e) })] }
        }
      }
      if (answer === undefined) throw new OllamadError('PEER_PROTOCOL', 'no inference request')
      await sendWithBackpressure(stream, frame(json({ status: answer.status, contentType: answer.contentType, node: answer.node, retryAfter: answer.retryAfter })), ac.signal)
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
    } catch (e) {
      log.debug(`inference stream dropped: ${errorMessage(e)}`)
      stream.abort(e instanceof Error ? e : new Error(String(e)))
    } finally {
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('message', onMessage)
      bodies -= reserved
      if (admitted) {
        total--
        const n = (open.get(peer) ?? 1) - 1
        if (n > 0) open.set(peer, n); else open.delete(peer)
      }
    }
  }
}

/** Sends a request to a peer; resolves once the answer's head arrives (a failure before it is the caller's cue to try another node). */
export async function requestInfer (dial: (signal: AbortSignal) => Promise<Stream>, head: InferHead, body: Uint8Array, signal: AbortSignal): Promise<InferAnswer> {
  const stream = await dial(signal)
  try {
    const bs = byteStream(stream, { maxBufferSize: 16 * 1024 * 1024 })
    await sendWithBackpressure(stream, frame(json(head)), signal)
    if (body.byteLength > 0) await sendWithBackpressure(stream, body, signal)
    const h = parseHead<{ status: number, contentType: string, node: string, retryAfter?: number }>(await readFrame(bs, MAX_HEAD, signal), 'inference answer')
    if (!Number.isInteger(h.status) || h.status < 100 || h.status > 599) throw new OllamadError('PEER_PROTOCOL', 'malformed inference answer')
    const rest = async function * (): AsyncGenerator<Uint8Array> {
      for (;;) {
        const list = await bs.read({ signal })
        if (list === null) break
        yield list.subarray()
      }
      await stream.close().catch(() => {})
    }
    return { status: h.status, contentType: String(h.contentType), node: String(h.node ?? ''), retryAfter: h.retryAfter, body: rest() }
  } catch (e) {
    stream.abort(e instanceof Error ? e : new Error(String(e)))
    throw e
  }
}
