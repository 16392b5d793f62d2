import { OllamadError, isOllamadError } from '../../errors.js'
import { readJson, badRequest, modelField, optBool, progressWriter, statusOf, sendError } from '../http-util.js'
import { errorMessage } from '../../errors.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { ModelName } from '../../store/index.js'
import type { PullOptions } from '../../transfer/index.js'
import type { Router } from '../router.js'
import type { Access } from '../access.js'

/** Ollama answers a failed pull or push with 500 unless the request itself was bad. */
const transferStatus = (e: unknown): number =>
  isOllamadError(e) && ['INVALID_NAME', 'INVALID_REQUEST', 'BODY_TOO_LARGE'].includes(e.code) ? statusOf(e) : 500

/** Pull and push share one shape: a name, `insecure`, and progress streamed or summed up. */
export function addTransferRoutes (router: Router, c: ApiComponents): void {
  const route = (path: string, access: Access, emptyName: () => OllamadError, run: (name: ModelName, o: PullOptions) => Promise<unknown>): void => {
    router.add('POST', path, access, async ({ req, res, signal }) => {
      const body = await readJson(req)
      const raw = modelField(body)
      if (raw === '') throw emptyName()
      const name = resolveName(c.store, raw)
      const insecure = optBool(body, 'insecure') ?? false
      const w = progressWriter(res, optBool(body, 'stream') ?? true)
      try {
        await run(name, { insecure, signal, onProgress: (p) => { w.write(p) } })
        w.end()
      } catch (e) {
        if (res.headersSent) w.fail(e)
        else sendError(res, transferStatus(e), errorMessage(e))
      }
    })
  }
  route('/api/pull', 'pull', () => new OllamadError('INVALID_NAME', 'invalid model name'), async (name, o) => await c.puller.pull(name, o))
  route('/api/push', 'write', () => badRequest('model is required'), async (name, o) => { await c.pusher.push(name, o) })
}
