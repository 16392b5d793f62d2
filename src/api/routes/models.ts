import { OllamadError } from '../../errors.js'
import { displayName, modelDetails, readModelConfig, digestHex } from '../../store/index.js'
import { readJson, sendJson, badRequest, modelField, optString } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { Router } from '../router.js'

export function addModelRoutes (router: Router, c: ApiComponents): void {
  router.add(['GET', 'HEAD'], '/api/tags', async ({ res }) => {
    await c.store.rescan()
    const entries = c.store.list().sort((a, b) => Math.floor(b.modifiedAt.getTime() / 1000) - Math.floor(a.modifiedAt.getTime() / 1000))
    const models = await Promise.all(entries.map(async e => {
      const cfg = await readModelConfig(c.store, e)
      return {
        name: displayName(e.name),
        model: displayName(e.name),
        modified_at: e.modifiedAt.toISOString(),
        size: e.size,
        digest: digestHex(e.digest),
        details: modelDetails(e, cfg)
      }
    }))
    sendJson(res, 200, { models })
  })

  router.add('DELETE', '/api/delete', async ({ req, res }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw badRequest('model is required')
    const name = resolveName(c.store, raw, () => new OllamadError('INVALID_NAME', `name ${JSON.stringify(raw)} is invalid`))
    try {
      await c.store.remove(name)
    } catch (e) {
      if (e instanceof OllamadError && e.code === 'MODEL_NOT_FOUND') throw new OllamadError('MODEL_NOT_FOUND', `model '${raw}' not found`)
      throw e
    }
    c.log.info(`deleted ${displayName(name)}`)
    res.writeHead(200).end()
  })

  router.add('POST', '/api/copy', async ({ req, res }) => {
    const body = await readJson(req)
    const src = optString(body, 'source') ?? ''
    const dst = optString(body, 'destination') ?? ''
    const from = resolveName(c.store, src, () => new OllamadError('INVALID_NAME', `source ${JSON.stringify(src)} is invalid`))
    const to = resolveName(c.store, dst, () => new OllamadError('INVALID_NAME', `destination ${JSON.stringify(dst)} is invalid`))
    try {
      await c.store.copy(from, to)
    } catch (e) {
      if (e instanceof OllamadError && e.code === 'MODEL_NOT_FOUND') throw new OllamadError('MODEL_NOT_FOUND', `model ${JSON.stringify(src)} not found`)
      throw e
    }
    res.writeHead(200).end()
  })
}
