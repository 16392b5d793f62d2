import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import { pipeline } from 'node:stream/promises'
import { OllamadError, errorMessage } from '../errors.js'
import { FORWARDED_HEADER, INSTANCE_HEADER } from './constants.js'

export interface UpstreamInit {
  /** The local Ollama, e.g. http://127.0.0.1:11434. Never taken from OLLAMA_HOST. */
  url: string
  /** This daemon's instance id: a forwarded request that carries it has looped back to us. */
  instanceId: string
}

/** The node's own Ollama, to which inference routes are forwarded with streaming kept. */
export interface OllamaUpstream {
  url: URL
  forward: (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>
  /** What answers at the upstream URL: Ollama (with its version), this daemon, another ollamad, or nothing. */
  probe: (signal?: AbortSignal) => Promise<UpstreamProbe>
  /** Ollama's version, or undefined when Ollama does not answer there. */
  version: (signal?: AbortSignal) => Promise<string | undefined>
  /** One request with a body already read (inference routed here from any node). */
  send: (method: string, path: string, headers: http.OutgoingHttpHeaders, body: Uint8Array, signal: AbortSignal) => Promise<IncomingMessage>
}

export type UpstreamProbe = { kind: 'ollama', version: string } | { kind: 'self' | 'ollamad' | 'down' }

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', '[::]', ''])

/** Refuses an upstream that is plainly this daemon's own listen address (the probe after listening catches the rest). */
export function refuseSelfUpstream (ollamaUrl: string, listen: { host: string, port: number }): void {
  let u: URL
  try { u = new URL(ollamaUrl) } catch { throw new OllamadError('INVALID_REQUEST', `invalid --ollama URL: ${ollamaUrl}`) }
  const port = Number(u.port !== '' ? u.port : u.protocol === 'https:' ? 443 : 80)
  if (port === listen.port && LOCAL_HOSTS.has(u.hostname) && LOCAL_HOSTS.has(listen.host)) {
    throw new OllamadError('UPSTREAM_IS_SELF', `the Ollama upstream ${u.origin} is this ollamad's own address; point --ollama at Ollama (default http://127.0.0.1:11434)`)
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer'])

export function createOllamaUpstream (init: UpstreamInit): OllamaUpstream {
  let url: URL
  try { url = new URL(init.url) } catch { throw new OllamadError('INVALID_REQUEST', `invalid Ollama URL: ${init.url}`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OllamadError('INVALID_REQUEST', `invalid Ollama URL: ${init.url}`)
  const mod = url.protocol === 'https:' ? https : http
  // An upstream URL with a path prefix (a reverse proxy in front of Ollama) keeps it.
  const basePath = url.pathname.replace(/\/+$/, '')
  const agent = new mod.Agent({ keepAlive: true })
  const unreachable = (e: unknown): OllamadError =>
    new OllamadError('UPSTREAM_UNAVAILABLE', `Ollama is not reachable at ${url.origin} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); is it running?`)

  const request = async (method: string, path: string, headers: http.OutgoingHttpHeaders, signal?: AbortSignal, body?: IncomingMessage | Uint8Array): Promise<IncomingMessage> =>
    await new Promise((resolve, reject) => {
      // Every ollamad on the way adds its id, so a loop through several daemons is caught too.
      const prior = headers[FORWARDED_HEADER]
      const via = typeof prior === 'string' && prior !== '' ? `${prior}, ${init.instanceId}` : init.instanceId
      // Plain options rather than a URL: this runs for every inference request.
      const r = mod.request({ protocol: url.protocol, hostname: url.hostname, port: url.port, path: basePath + path, method, headers: { ...headers, host: url.host, [FORWARDED_HEADER]: via }, agent, signal }, resolve)
      r.on('error', (e) => { reject(unreachable(e)) })
      if (body === undefined) r.end()
      else if (body instanceof Uint8Array) r.end(body)
      else pipeline(body, r).catch((e) => { r.destroy(e) })
    })

  const probe = async (signal?: AbortSignal): Promise<UpstreamProbe> => {
    try {
      const res = await request('GET', '/api/version', {}, AbortSignal.any([AbortSignal.timeout(3000), ...(signal !== undefined ? [signal] : [])]))
      const parts: Buffer[] = []
      for await (const c of res as AsyncIterable<Buffer>) parts.push(c)
      const instance = res.headers[INSTANCE_HEADER]
      if (instance !== undefined) return { kind: instance === init.instanceId ? 'self' : 'ollamad' }
      const v = JSON.parse(Buffer.concat(parts).toString('utf8')) as { version?: unknown }
      return typeof v.version === 'string' ? { kind: 'ollama', version: v.version } : { kind: 'down' }
    } catch { return { kind: 'down' } }
  }

  return {
    url,
    probe,
    send: async (method, path, headers, body, signal) => await request(method, path, { ...headers, 'content-length': body.byteLength }, signal, body),
    version: async (signal) => {
      const p = await probe(signal)
      return p.kind === 'ollama' ? p.version : undefined
    },
    forward: async (req, res, signal) => {
      const headers: http.OutgoingHttpHeaders = {}
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v
      const up = await request(req.method ?? 'GET', req.url ?? '/', headers, signal, req)
      if (up.headers[INSTANCE_HEADER] === init.instanceId) {
        up.resume()
        throw new OllamadError('UPSTREAM_IS_SELF', `the upstream Ollama URL ${url.origin} points at this ollamad; start it with --ollama set to Ollama's own address`)
      }
      const out: http.OutgoingHttpHeaders = {}
      for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && k !== INSTANCE_HEADER && v !== undefined) out[k] = v
      res.writeHead(up.statusCode ?? 502, out)
      res.flushHeaders()
      try {
        await pipeline(up, res)
      } catch (e) {
        if (!signal.aborted) res.destroy(e as Error)
      }
    }
  }
}
