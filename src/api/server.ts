import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { errorMessage, isOllamadError } from '../errors.js'
import { FORWARDED_HEADER, INSTANCE_HEADER } from '../inference/index.js'
import { createRouter } from './router.js'
import { sendError, sendFailure, statusOf } from './http-util.js'
import type { ApiComponents } from './context.js'
import { createAuthorizer, type Access, type AccessPolicy } from './access.js'
import { corsHeaders, createOriginPolicy, hostAllowed, hostOfHeader, isLoopbackHost } from './origin.js'
import { addModelRoutes } from './routes/models.js'
import { addShowRoute } from './routes/show.js'
import { addTransferRoutes } from './routes/transfer.js'
import { addBlobRoutes } from './routes/blobs.js'
import { addCreateRoute } from './routes/create.js'
import { addMiscRoutes } from './routes/misc.js'
import { addClusterRoutes } from './routes/cluster.js'
import { addDashboardRoutes } from './dashboard/index.js'
import { addPlacementRoutes } from './routes/placement.js'
import { addInferRoutes, NODE_HEADER } from './routes/infer.js'
import { addServingRoutes } from './routes/serving.js'
import { addClusterViewRoutes } from './routes/cluster-views.js'

export interface ApiServer {
  listen: (host: string, port: number) => Promise<AddressInfo>
  /** Where it listens (http://host:port), '' until it does. */
  url: () => string
  close: () => Promise<void>
}

/** Paths that belong to Ollama's inference side and go to the local Ollama as they are. */
const FORWARDED = [/^\/api\/(generate|chat|embed|embeddings|ps|status)$/, /^\/v1\//]
/**
 * Other routes of Ollama's API that ollamad does not serve itself (sign-in, experimental ones)
 * go to the local Ollama too, as writes unless they only read: its answer, or its own error.
 */
const OLLAMA_ONLY = /^\/api\/(?!cluster\/)[a-z0-9/_-]+$/
const forwardedAccess = (method: string | undefined, known: boolean): Access =>
  method === 'GET' || method === 'HEAD' ? 'read' : known ? 'infer' : 'write'

/** Who may call what: the access policy (open classes, token) and the browser origins allowed. */
export interface ApiEdge {
  access: AccessPolicy
  /** Origins allowed on top of Ollama's defaults (OLLAMA_ORIGINS, --origins). */
  origins: readonly string[]
}

/** Bounds on every connection, so slow or many clients cannot hold the server. */
const HEADERS_TIMEOUT_MS = 30_000
const MAX_CONNECTIONS = 2048

export function createApiServer (c: ApiComponents, edge: ApiEdge): ApiServer {
  const authorize = createAuthorizer(edge.access)
  const origins = createOriginPolicy(edge.origins)
  // A server on loopback checks Host against DNS rebinding, as Ollama does; one the network
  // reaches is named by whatever DNS its clients use, and its writes need the token anyway.
  let checkHost = true
  const router = createRouter()
  addMiscRoutes(router, c)
  addModelRoutes(router, c)
  addShowRoute(router, c)
  addTransferRoutes(router, c)
  addBlobRoutes(router, c)
  addCreateRoute(router, c)
  addClusterRoutes(router, c)
  addPlacementRoutes(router, c)
  addInferRoutes(router, c)
  addServingRoutes(router, c)
  addClusterViewRoutes(router, c)
  addDashboardRoutes(router, c)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader(INSTANCE_HEADER, c.instanceId)
    // Timed until the answer ends, under its route's pattern (raw paths would be unbounded labels).
    const started = process.hrtime.bigint()
    let route = 'unmatched'
    res.once('close', () => {
      const node = res.getHeader(NODE_HEADER)
      c.metrics.observeRequest({ route, method: req.method ?? '', status: res.statusCode, node: typeof node === 'string' ? node : '' }, Number(process.hrtime.bigint() - started) / 1e9)
    })
    const ac = new AbortController()
    res.on('close', () => { if (!res.writableFinished) ac.abort() })
    const refuse = (status: number, message: string): void => {
      // Drain a body we will not read first, so the connection can carry the next request.
      if (!req.readableEnded) req.resume()
      sendError(res, status, message)
    }
    if (checkHost && !hostAllowed(req.headers.host)) {
      c.metrics.refused('host')
      refuse(403, `forbidden: host ${JSON.stringify(hostOfHeader(req.headers.host ?? ''))} does not name this node`)
      return
    }
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      if (!origins.allowed(origin)) {
        c.metrics.refused('origin')
        refuse(403, `forbidden: origin ${JSON.stringify(origin)} is not allowed (add it to OLLAMA_ORIGINS or --origins)`)
        return
      }
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined
      for (const [k, v] of Object.entries(corsHeaders(origin, preflight, req.headers['access-control-request-headers']))) res.setHeader(k, v)
      if (preflight) { res.writeHead(204).end(); return }
    }
    let url: URL
    try { url = new URL(req.url ?? '/', 'http://localhost') } catch { sendError(res, 400, 'invalid request URL'); return }
    const via = req.headers[FORWARDED_HEADER]
    if (typeof via === 'string' && via.split(',').map(v => v.trim()).includes(c.instanceId)) {
      sendError(res, 508, 'request loop: this ollamad is its own upstream Ollama; set --ollama to Ollama\'s address')
      return
    }
    const m = router.match(req.method ?? 'GET', url.pathname)
    try {
      if (m === undefined) {
        const known = FORWARDED.some(re => re.test(url.pathname))
        if (known || OLLAMA_ONLY.test(url.pathname)) {
          route = 'forwarded'
          authorize(forwardedAccess(req.method, known), req.headers.authorization)
          await c.upstream.forward(req, res, ac.signal)
          return
        }
        // Outside /api/ as Ollama (gin) answers; inside, in Ollama's error shape.
        if (url.pathname.startsWith('/api/')) sendError(res, 404, `no route ${req.method ?? ''} ${url.pathname.slice(0, 200)}`)
        else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found')
        return
      }
      if (m === 'method-not-allowed') {
        res.writeHead(405, { 'Content-Type': 'text/plain' }).end('405 method not allowed')
        return
      }
      route = m.pattern
      authorize(m.access, req.headers.authorization)
      await m.handler({ req, res, url, params: m.params, signal: ac.signal })
    } catch (e) {
      if (isOllamadError(e, 'UNAUTHORIZED')) c.metrics.refused('token')
      if (statusOf(e) >= 500) c.log.error(`${req.method ?? ''} ${url.pathname}: ${errorMessage(e)}`)
      sendFailure(res, e)
      // A body we refused may still be arriving; drop it rather than hold the socket.
      if (!req.readableEnded) req.resume()
    }
  }

  const server = http.createServer((req, res) => { void handle(req, res) })
  // No whole-request timeout: pulls and generations stream for as long as they take.
  server.requestTimeout = 0
  server.headersTimeout = HEADERS_TIMEOUT_MS
  server.keepAliveTimeout = 65_000
  server.maxConnections = MAX_CONNECTIONS
  let url = ''
  return {
    listen: async (host, port) => await new Promise((resolve, reject) => {
      server.once('error', reject)
      checkHost = isLoopbackHost(host)
      server.listen(port, host, () => {
        server.off('error', reject)
        const addr = server.address() as AddressInfo
        url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
        resolve(addr)
      })
    }),
    url: () => url,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
