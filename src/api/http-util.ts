import type { IncomingMessage, ServerResponse } from 'node:http'
import { OllamadError, errorMessage, isOllamadError, type ErrorCode } from '../errors.js'

/** JSON request bodies larger than this are refused before parsing. */
export const MAX_JSON_BODY = 8 * 1024 * 1024
/** A request body that sends nothing for this long is dropped (a client that trickles holds a socket). */
export const BODY_IDLE_MS = 60_000

/** Drops the connection when the body being read goes idle; returns the undo, for once it is read. */
export function bodyIdleTimeout (req: IncomingMessage, ms = BODY_IDLE_MS): () => void {
  req.setTimeout(ms, () => { req.destroy(new OllamadError('STALLED', `no request body bytes for ${ms / 1000} s`)) })
  return () => { req.setTimeout(0) }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_NAME: 400,
  INVALID_DIGEST: 400,
  INVALID_REQUEST: 400,
  BODY_TOO_LARGE: 400,
  DIGEST_MISMATCH: 400,
  MANIFEST_INVALID: 500,
  MODEL_NOT_FOUND: 404,
  BLOB_NOT_FOUND: 404,
  CONFLICT: 409,
  NODE_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  NO_ROOM: 409,
  CLOCK_DRIFT: 400,
  QUEUE_FULL: 503,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_IS_SELF: 502,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403
}

export const statusOf = (e: unknown): number =>
  isOllamadError(e) ? (STATUS[e.code] ?? 500) : 500

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.byteLength })
  res.end(bytes)
}

export function sendError (res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end(JSON.stringify({ error: message }) + '\n')
    return
  }
  sendJson(res, status, { error: message })
}

export const sendFailure = (res: ServerResponse, e: unknown): void => { sendError(res, statusOf(e), errorMessage(e)) }

export const badRequest = (msg: string): OllamadError => new OllamadError('INVALID_REQUEST', msg)

/** Reads a JSON object body with a size limit; Ollama's wording for an empty body. */
/** The whole request body, refused past `limit` bytes. */
export async function readBody (req: IncomingMessage, limit = MAX_JSON_BODY, idleMs = BODY_IDLE_MS): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) throw new OllamadError('BODY_TOO_LARGE', `request body too large (limit ${limit} bytes)`)
  // Events rather than an async iterator: this runs for every request, and small bodies come in one piece.
  const idle = bodyIdleTimeout(req, idleMs)
  return await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = []
    let n = 0
    const onData = (chunk: Buffer): void => {
      n += chunk.byteLength
      if (n > limit) { cleanup(); reject(new OllamadError('BODY_TOO_LARGE', `request body too large (limit ${limit} bytes)`)); return }
      parts.push(chunk)
    }
    const onEnd = (): void => { cleanup(); resolve(parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts)) }
    const onError = (e: Error): void => { cleanup(); reject(e) }
    const onClose = (): void => { if (!req.complete) { cleanup(); reject(new OllamadError('ABORTED', 'the client went away')) } }
    const cleanup = (): void => { idle(); req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('close', onClose) }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}

export async function readJson (req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Record<string, unknown>> {
  const text = (await readBody(req, limit)).toString('utf8')
  if (text.trim() === '') throw badRequest('missing request body')
  let v: unknown
  try { v = JSON.parse(text) } catch (e) { throw badRequest(`invalid JSON: ${errorMessage(e)}`) }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('request body must be a JSON object')
  return v as Record<string, unknown>
}

/** Field readers that turn a wrongly typed field into a 400 naming it. */
export function optString (body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw badRequest(`field "${key}" must be a string`)
  return v
}

export function optBool (body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw badRequest(`field "${key}" must be a boolean`)
  return v
}

/** `model` wins over the deprecated `name`, as in Ollama. */
export const modelField = (body: Record<string, unknown>): string =>
  (optString(body, 'model') ?? '') !== '' ? optString(body, 'model') as string : (optString(body, 'name') ?? '')

/**
 * Streams progress as NDJSON, or with `stream:false` answers only the last event as one object.
 * An error before the first line is a plain error response; after it, an in-band error line.
 */
export interface ProgressWriter {
  write: (event: object) => void
  fail: (e: unknown) => void
  end: () => void
}

export function progressWriter (res: ServerResponse, stream: boolean): ProgressWriter {
  let last: object | undefined
  return {
    write: (event) => {
      if (!stream) { last = event; return }
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' })
      res.write(JSON.stringify(event) + '\n')
    },
    fail: (e) => {
      if (res.headersSent) {
        res.end(JSON.stringify({ error: errorMessage(e) }) + '\n')
        return
      }
      sendFailure(res, e)
    },
    end: () => {
      if (!stream) sendJson(res, 200, last ?? { status: 'success' })
      else res.end()
    }
  }
}
