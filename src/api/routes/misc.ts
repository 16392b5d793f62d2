import { FORWARDED_HEADER, OLLAMA_API_VERSION } from '../../inference/index.js'
import { sendJson } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'

export function addMiscRoutes (router: Router, c: ApiComponents): void {
  // Prometheus' scrape: reads only, so open like the other reads.
  router.add('GET', '/metrics', 'read', async ({ res }) => {
    const body = await c.metrics.text()
    res.writeHead(200, { 'Content-Type': c.metrics.contentType }).end(body)
  })

  // `ollama` checks HEAD / before each command.
  router.add(['GET', 'HEAD'], '/', 'read', async ({ res }) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Ollama is running')
  })

  // The local Ollama's version when it runs (clients compare it with their own), else the API version we follow.
  // Another ollamad asking (it sends its id along) gets our own answer, so two daemons that
  // name each other as upstream cannot recurse.
  router.add(['GET', 'HEAD'], '/api/version', 'read', async ({ req, res, signal }) => {
    const fromPeer = req.headers[FORWARDED_HEADER] !== undefined
    sendJson(res, 200, { version: (fromPeer ? undefined : await c.upstream.version(signal)) ?? OLLAMA_API_VERSION })
  })
}
