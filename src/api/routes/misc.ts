import { OLLAMA_API_VERSION } from '../../inference/index.js'
import { sendJson } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'

export function addMiscRoutes (router: Router, c: ApiComponents): void {
  // `ollama` checks HEAD / before each command.
  router.add(['GET', 'HEAD'], '/', async ({ res }) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Ollama is running')
  })

  // The local Ollama's version when it runs (clients compare it with their own), else the API version we follow.
  router.add(['GET', 'HEAD'], '/api/version', async ({ res, signal }) => {
    sendJson(res, 200, { version: (await c.upstream.version(signal)) ?? OLLAMA_API_VERSION })
  })
}
