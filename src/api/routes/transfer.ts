import { OllamadError, isOllamadError } from '../../errors.js'
import { readJson, badRequest, modelField, optBool, progressWriter, statusOf, sendError } from '../http-util.js'
import { errorMessage } from '../../errors.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { Router } from '../router.js'

/** Ollama answers a failed pull or push with 500 unless the request itself was bad. */
const transferStatus = (e: unknown): number =>
  isOllamadError(e) && ['INVALID_NAME', 'INVALID_REQUEST', 'BODY_TOO_LARGE'].includes(e.code) ? statusOf(e) : 500

export function addTransferRoutes (router: Router, c: ApiComponents): void {
  router.add('POST', '/api/pull', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw new OllamadError('INVALID_NAME', 'invalid model name')
    const name = resolveName(c.store, raw)
    const insecure = optBool(body, 'insecure') ?? false
    const w = progressWriter(res, optBool(body, 'stream') ?? true)
    try {
      await c.puller.pull(name, { insecure, signal, onProgress: (p) => { w.write(p) } })
      w.end()
    } catch (e) {
      if (res.headersSent) w.fail(e)
      else sendError(res, transferStatus(e), errorMessage(e))
    }
  })

  router.add('POST', '/api/push', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw badRequest('model is required')
    const name = resolveName(c.store, raw)
    const insecure = optBool(body, 'insecure') ?? false
    const w = progressWriter(res, optBool(body, 'stream') ?? true)
    try {
      await c.pusher.push(name, { insecure, signal, onProgress: (p) => { w.write(p) } })
      w.end()
    } catch (e) {
      if (res.headersSent) w.fail(e)
      else sendError(res, transferStatus(e), errorMessage(e))
    }
  })
}
