import { OllamadError } from '../../errors.js'
import { candidates, heldAnywhere, type InferHead } from '../../inference/index.js'
import { resolveNode } from '../../policy/index.js'
import { isValidModelName, modelKey } from '../../store/index.js'
import type { Member } from '../../cluster/index.js'
import { readJson, sendJson, modelField, optString, badRequest } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'
import { collect, runOn } from './infer.js'

/** Loads, unloads, the cluster's loaded models, and async generate jobs. */
export function addServingRoutes (router: Router, c: ApiComponents): void {
  const jobs = c.inference.jobs

  const modelOf = (body: Record<string, unknown>): string => {
    const m = modelField(body)
    if (m === '') throw badRequest('model is required')
    if (!isValidModelName(m)) throw new OllamadError('INVALID_NAME', `invalid model name: ${JSON.stringify(m.slice(0, 200))}`)
    if (!heldAnywhere(c.state.members(), m)) throw new OllamadError('MODEL_NOT_FOUND', `model "${m}" not found, try pulling it first`)
    return m
  }
  const head = (model: string, bodyLength: number, priority = 'normal'): InferHead => ({ method: 'POST', path: '/api/generate', contentType: 'application/json', priority, model, bodyLength })

  /** Sends a generate body to one node and reads its whole answer; an error status is an error. */
  const generateOn = async (node: Member, model: string, body: Record<string, unknown>, signal: AbortSignal): Promise<unknown> => {
    const bytes = Buffer.from(JSON.stringify({ ...body, model, stream: false }))
    const a = await runOn(c, node, head(model, bytes.byteLength), bytes, signal)
    const text = await collect(a)
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { parsed = { response: text } }
    if (a.status >= 400) throw new OllamadError('UPSTREAM_UNAVAILABLE', `${node.record.name}: ${String((parsed as { error?: unknown }).error ?? text).slice(0, 300)}`)
    return parsed
  }

  router.add('POST', '/api/cluster/load', 'cluster', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const model = modelOf(body)
    const named = optString(body, 'node')
    const nodes = named !== undefined ? [resolveNode(c.state.members(), named)] : candidates(c.state.members(), model)
    let last: unknown
    for (const node of nodes) {
      try {
        // Ollama loads a model on a generate request with an empty prompt.
        await generateOn(node, model, { prompt: '', ...(body.keep_alive !== undefined ? { keep_alive: body.keep_alive } : {}) }, signal)
        sendJson(res, 200, { status: 'success', node: node.record.name })
        return
      } catch (e) { last = e }
    }
    throw last ?? new OllamadError('UPSTREAM_UNAVAILABLE', `no node could load ${model}`)
  })

  router.add('POST', '/api/cluster/unload', 'cluster', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const model = modelOf(body)
    const named = optString(body, 'node')
    const key = modelKey(model)
    const nodes = named !== undefined
      ? [resolveNode(c.state.members(), named)]
      : c.state.members().filter(m => m.liveness !== 'gone' && m.record.loaded.some(l => modelKey(l.name) === key))
    const done: string[] = []
    for (const node of nodes) {
      await generateOn(node, model, { keep_alive: 0 }, signal)
      done.push(node.record.name)
    }
    sendJson(res, 200, { status: 'success', nodes: done })
  })

  router.add('GET', '/api/cluster/ps', 'read', async ({ res }) => {
    const members = c.state.members().filter(m => m.liveness !== 'gone').sort((a, b) => a.record.name < b.record.name ? -1 : 1)
    sendJson(res, 200, {
      nodes: members.map(m => ({
        name: m.record.name,
        id: m.peerId,
        liveness: m.liveness,
        ollama: m.record.ollamaUp ? 'up' : 'down',
        vram: { total: m.record.gpus.reduce((s, g) => s + Number(g.memoryTotal), 0), used: m.record.gpus.reduce((s, g) => s + Number(g.memoryUsed), 0), free: m.record.gpus.reduce((s, g) => s + Number(g.memoryFree), 0) },
        models: m.record.loaded.map(l => ({ name: l.name, size: Number(l.size), size_vram: Number(l.sizeVram), expires_at: l.expiresAt }))
      }))
    })
  })

  router.add('POST', '/api/cluster/generate', 'infer', async ({ req, res }) => {
    const body = await readJson(req)
    const model = modelOf(body)
    const id = jobs.start(model, async (signal) => {
      let last: unknown
      for (const node of candidates(c.state.members(), model)) {
        try {
          return { result: await generateOn(node, model, body, signal), node: node.record.name }
        } catch (e) { last = e }
      }
      throw last ?? new Error(`no node could serve ${model}`)
    })
    sendJson(res, 202, { id })
  })

  router.add('GET', '/api/cluster/generate/:id', 'read', async ({ res, params }) => {
    const job = jobs.get(params.id as string)
    if (job === undefined) throw new OllamadError('JOB_NOT_FOUND', `no generate job ${JSON.stringify((params.id as string).slice(0, 40))} on this node`)
    sendJson(res, 200, { id: job.id, state: job.state, model: job.model, node: job.node, created_at: new Date(job.createdAt).toISOString(), ...(job.result !== undefined ? { result: job.result } : {}), ...(job.error !== undefined ? { error: job.error } : {}) })
  })
}
