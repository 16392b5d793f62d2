import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { OllamadError } from '../errors.js'
import { directRequest, type DirectResponse } from './direct-http.js'

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 })
}

/** A registry's answer: node:http's, or a direct one (plain http blobs) whose body reads into the caller's buffers. */
export type HttpResponse = IncomingMessage | DirectResponse

export interface HttpRequest {
  method?: string
  headers?: Record<string, string>
  body?: Uint8Array | AsyncIterable<Uint8Array>
  signal?: AbortSignal
  /** Abort when the socket is idle this long (waiting for headers or inside the body). */
  timeoutMs?: number
  /** Plain http without a request body goes over `directRequest`. */
  direct?: boolean
}

/** One HTTP exchange (no redirect following; callers decide what a 3xx means). */
export async function httpRequest (url: URL, req: HttpRequest = {}): Promise<HttpResponse> {
  if (req.direct === true && url.protocol === 'http:' && req.body === undefined) return await directRequest(url, req)
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined
  if (mod === undefined) throw new OllamadError('REGISTRY_ERROR', `unsupported URL scheme ${url.protocol}`)
  return await new Promise<IncomingMessage>((resolve, reject) => {
    const r = mod.request(url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      agent: url.protocol === 'https:' ? agents.https : agents.http,
      signal: req.signal
    }, resolve)
    if (req.timeoutMs !== undefined) {
      r.setTimeout(req.timeoutMs, () => { r.destroy(new OllamadError('STALLED', `no response from ${url.host} in ${req.timeoutMs} ms`)) })
    }
    r.on('error', (e: NodeJS.ErrnoException) => {
      if (req.signal?.aborted === true) reject(new OllamadError('ABORTED', 'request aborted', { cause: e }))
      else if (e instanceof OllamadError) reject(e)
      else reject(new OllamadError('REGISTRY_UNREACHABLE', `cannot reach ${url.host} (${e.code ?? e.message})`, { cause: e }))
    })
    const body = req.body
    if (body === undefined) { r.end(); return }
    if (body instanceof Uint8Array) { r.end(body); return }
    void (async () => {
      try {
        for await (const chunk of body) {
          if (!r.write(chunk)) await new Promise(resolve => r.once('drain', resolve))
        }
        r.end()
      } catch (e) { r.destroy(e as Error) }
    })()
  })
}

/** Reads a whole response body, refusing more than maxBytes (by header and by count). */
export async function readBody (res: HttpResponse, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy()
    throw new OllamadError('SIZE_LIMIT', `response of ${declared} bytes exceeds the ${maxBytes} byte limit`)
  }
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of res) {
    n += (chunk as Buffer).byteLength
    if (n > maxBytes) {
      res.destroy()
      throw new OllamadError('SIZE_LIMIT', `response exceeds the ${maxBytes} byte limit`)
    }
    parts.push(chunk as Buffer)
  }
  return Buffer.concat(parts)
}

/** Drops a response body we do not need, keeping the connection reusable when it is small. */
export function discard (res: HttpResponse): void {
  const len = Number(res.headers['content-length'])
  if (Number.isFinite(len) && len < 64 * 1024) res.resume()
  else res.destroy()
}

export const isRedirect = (status: number | undefined): boolean =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308
