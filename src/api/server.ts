import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { errorMessage } from '../errors.js'
import { FORWARDED_HEADER, INSTANCE_HEADER } from '../inference/index.js'
import { createRouter } from './router.js'
import { sendError, sendFailure, statusOf } from './http-util.js'
import type { ApiComponents } from './context.js'
import { addModelRoutes } from './routes/models.js'
import { addShowRoute } from './routes/show.js'
import { addTransferRoutes } from './routes/transfer.js'
import { addBlobRoutes } from './routes/blobs.js'
import { addCreateRoute } from './routes/create.js'
import { addMiscRoutes } from './routes/misc.js'
import { addClusterRoutes } from './routes/cluster.js'
import { addPlacementRoutes } from './routes/placement.js'
import { addInferRoutes } from './routes/infer.js'
import { addServingRoutes } from './routes/serving.js'

export interface ApiServer {
  listen: (host: string, port: number) => Promise<AddressInfo>
  /** Where it listens (http://host:port), '' until it does. */
  url: () => string
  close: () => Promise<void>
}

/** Paths that belong to Ollama's inference side and go to the local Ollama as they are. */
const FORWARDED = [/^\/api\/(generate|chat|embed|embeddings|ps|status)$/, /^\/v1\//]

export function createApiServer (c: ApiComponents): ApiServer {
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader(INSTANCE_HEADER, c.instanceId)
    const ac = new AbortController()
    res.on('close', () => { if (!res.writableFinished) ac.abort() })
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
        if (FORWARDED.some(re => re.test(url.pathname))) {
          await c.upstream.forward(req, res, ac.signal)
          return
        }
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found')
        return
      }
      if (m === 'method-not-allowed') {
        res.writeHead(405, { 'Content-Type': 'text/plain' }).end('405 method not allowed')
        return
      }
      await m.handler({ req, res, url, params: m.params, signal: ac.signal })
    } catch (e) {
      if (statusOf(e) >= 500) c.log.error(`${req.method ?? ''} ${url.pathname}: ${errorMessage(e)}`)
      sendFailure(res, e)
      // A body we refused may still be arriving; drop it rather than hold the socket.
      if (!req.readableEnded) req.resume()
    }
  }

  const server = http.createServer((req, res) => { void handle(req, res) })
  server.requestTimeout = 0
  server.keepAliveTimeout = 65_000
  let url = ''
  return {
    listen: async (host, port) => await new Promise((resolve, reject) => {
      server.once('error', reject)
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
