import { OllamadError, errorMessage, isOllamadError } from '../errors.js'
import { INFERENCE_ROUTES } from './constants.js'
import type { Logger } from '../util/logger.js'

/**
 * An inference request carried to the serving node (so no extra port, and only members may ask):
 * a JSON head, the body, then the answer's JSON head and its bytes as they stream. Two transports
 * carry it: a libp2p stream (infer-stream.ts) and a data connection (infer-data.ts).
 */
export const INFER_PROTOCOL = '/ollamad/infer/1.0.0'
export const MAX_INFER_BODY = 32 * 1024 * 1024
export const MAX_HEAD = 64 * 1024

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

/** What the answer's head frame carries. */
export type AnswerHead = Pick<InferAnswer, 'status' | 'contentType' | 'node' | 'retryAfter'>

/** Runs one request on this node (its queue, a lazy fetch unless `fetch` is false, its Ollama). */
export type LocalServe = (head: InferHead, body: Uint8Array, signal: AbortSignal, o?: { fetch?: boolean }) => Promise<InferAnswer>

export const json = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o))
const parseJson = <T>(b: Uint8Array, what: string): T => {
  try { return JSON.parse(new TextDecoder().decode(b)) as T } catch { throw new OllamadError('PEER_PROTOCOL', `malformed ${what}`) }
}

export const answerHead = (a: InferAnswer): Uint8Array => json({ status: a.status, contentType: a.contentType, node: a.node, retryAfter: a.retryAfter })

/** The answer's head as a peer sent it, checked. */
export function parseAnswerHead (b: Uint8Array): AnswerHead {
  const h = parseJson<Partial<AnswerHead>>(b, 'inference answer')
  if (!Number.isInteger(h.status) || (h.status as number) < 100 || (h.status as number) > 599) throw new OllamadError('PEER_PROTOCOL', 'malformed inference answer')
  return { status: h.status as number, contentType: String(h.contentType), node: String(h.node ?? ''), retryAfter: h.retryAfter }
}

export function checkHead (raw: Uint8Array): InferHead {
  const h = parseJson<Partial<InferHead>>(raw, 'inference request')
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

/** Bounds on what peers' inference requests may hold here at once (each buffers up to its body). */
export interface InferLimits {
  /** Requests open at once, from one peer and from all. */
  perPeer: number
  total: number
  /** Body bytes declared by the requests in flight, from all peers. */
  bodyBytes: number
}
export const DEFAULT_INFER_LIMITS: InferLimits = { perPeer: 16, total: 64, bodyBytes: 256 * 1024 * 1024 }

/** How a transport gives one request to the service. */
export interface RequestReader {
  /** The head frame's payload. */
  head: () => Promise<Uint8Array>
  /** The head is checked: what the request declared (the transport bounds what it takes by it). */
  checked?: (head: InferHead, rawLength: number) => void
  /** The body, once the request is admitted. */
  body: (head: InferHead) => Promise<Uint8Array>
}

/** Answers one request from `peer`; `release` frees its share of the limits once the answer is sent. */
export type InferService = (peer: string, reader: RequestReader, signal: AbortSignal) => Promise<{ answer: InferAnswer, release: () => void }>

const busy = (message: string): InferAnswer => ({ status: 503, contentType: 'application/json', node: '', retryAfter: 1, body: [json({ error: message })] })

/**
 * Serves inference requests that other nodes route here, whichever way they come: the limits,
 * the check that only inference is asked, the local serve, and refusals and failures as answers.
 */
export function createInferService (serve: LocalServe, log: Logger, limits: InferLimits = DEFAULT_INFER_LIMITS): InferService {
  const open = new Map<string, number>()
  let total = 0
  let bodies = 0
  return async (peer, reader, signal) => {
    const mine = open.get(peer) ?? 0
    const admitted = mine < limits.perPeer && total < limits.total
    if (admitted) { open.set(peer, mine + 1); total++ }
    let reserved = 0
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      bodies -= reserved
      if (!admitted) return
      total--
      const n = (open.get(peer) ?? 1) - 1
      if (n > 0) open.set(peer, n); else open.delete(peer)
    }
    try {
      let answer: InferAnswer | undefined
      let head: InferHead | undefined
      try {
        const raw = await reader.head()
        head = checkHead(raw)
        reader.checked?.(head, raw.byteLength)
      } catch (e) {
        if (!isOllamadError(e, 'FORBIDDEN')) throw e
        log.info(`refused from ${peer === '' ? 'a peer' : peer}: ${e.message}`)
        answer = { status: 403, contentType: 'application/json', node: '', body: [json({ error: e.message })] }
      }
      if (!admitted) answer = busy(`busy: ${limits.perPeer} inference requests from one node, ${limits.total} in all, are open here`)
      else if (head !== undefined && bodies + head.bodyLength > limits.bodyBytes) answer = busy('busy: too many inference request bodies in flight here')
      else if (head !== undefined) { reserved = head.bodyLength; bodies += reserved }
      if (answer === undefined && head !== undefined) {
        const body = await reader.body(head)
        try {
          answer = await serve(head, body, signal)
        } catch (e) {
          const status = e instanceof OllamadError && e.code === 'MODEL_NOT_FOUND' ? 404 : 502
          answer = { status, contentType: 'application/json', node: '', body: [json({ error: errorMessage(e) })] }
        }
      }
      if (answer === undefined) throw new OllamadError('PEER_PROTOCOL', 'no inference request')
      return { answer, release }
    } catch (e) {
      release()
      throw e
    }
  }
}
