import type { ServerResponse } from 'node:http'
import { pump } from '../../util/pump.js'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Member } from '../../cluster/index.js'
import { candidates, heldAnywhere, parsePriority, FORWARDED_HEADER, INFERENCE_ROUTES, MAX_INFER_BODY, type InferAnswer, type InferHead } from '../../inference/index.js'
import { isValidModelName } from '../../store/index.js'
import { readBody, statusOf } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'

export const NODE_HEADER = 'x-ollamad-node'

/** Ollama's error body, or OpenAI's for /v1/*. */
function fail (res: ServerResponse, openai: boolean, status: number, message: string): void {
  if (res.headersSent) { if (!res.writableEnded) res.end(JSON.stringify({ error: message }) + '\n'); return }
  const body = openai ? { error: { message, type: status >= 500 ? 'api_error' : 'invalid_request_error', param: null, code: null } } : { error: message }
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.byteLength }).end(bytes)
}

/** Runs a request on one node: this one directly, another over the swarm. Throws before any byte is answered. */
export async function runOn (c: ApiComponents, node: Member, head: InferHead, body: Uint8Array, signal: AbortSignal, fetch = true): Promise<InferAnswer> {
  const inference = c.inference
  return node.self
    ? await inference.serve(head, body, signal, { fetch })
    : await inference.client.request(node.peerId, head, body, signal)
}

/** Reads a whole answer (for JSON answers such as a load or an async job's result). */
export async function collect (a: InferAnswer): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const p of a.body) parts.push(p)
  return Buffer.concat(parts).toString('utf8')
}

export function addInferRoutes (router: Router, c: ApiComponents): void {
  for (const path of INFERENCE_ROUTES) {
    const openai = path.startsWith('/v1/')
    router.add('POST', path, 'infer', async ({ req, res, signal }) => {
      let raw: Buffer
      let model: string
      let priority
      try {
        raw = await readBody(req, MAX_INFER_BODY)
        let body: unknown
        try { body = JSON.parse(raw.toString('utf8')) } catch (e) { throw new OllamadError('INVALID_REQUEST', `invalid JSON: ${errorMessage(e)}`) }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OllamadError('INVALID_REQUEST', 'request body must be a JSON object')
        const m = (body as Record<string, unknown>).model ?? (body as Record<string, unknown>).name
        if (typeof m !== 'string' || m === '') throw new OllamadError('INVALID_REQUEST', 'model is required')
        if (!isValidModelName(m)) throw new OllamadError('INVALID_NAME', `invalid model name: ${JSON.stringify(m.slice(0, 200))}`)
        model = m
        priority = parsePriority(req.headers['x-ollamad-priority'])
      } catch (e) {
        fail(res, openai, statusOf(e), errorMessage(e))
        return
      }
      const via = req.headers[FORWARDED_HEADER]
      const head: InferHead = { method: 'POST', path, contentType: String(req.headers['content-type'] ?? 'application/json'), priority, model, bodyLength: raw.byteLength, via: typeof via === 'string' ? via : '' }
      let last: unknown
      // A model no node holds goes to the local Ollama as it is (it answers, or gives its own 404).
      const held = heldAnywhere(c.state.members(), model)
      const nodes = held ? candidates(c.state.members(), model) : c.state.members().filter(m => m.self)
      for (const node of nodes) {
        let answer: InferAnswer
        try {
          answer = await runOn(c, node, head, raw, signal, held)
        } catch (e) {
          // Nothing reached the client yet: the next node may serve it.
          if (signal.aborted) return
          last = e
          c.log.info(`${node.record.name} could not take a ${path} request for ${model}: ${errorMessage(e)}`)
          continue
        }
        res.writeHead(answer.status, {
          'Content-Type': answer.contentType,
          [NODE_HEADER]: answer.node !== '' ? answer.node : node.record.name,
          ...(answer.retryAfter !== undefined ? { 'Retry-After': String(answer.retryAfter) } : {})
        })
        try {
          const readable = answer.readable
          if (readable !== undefined) {
            // Pieces that arrive together go out in one write; a failure can still be reported in-band.
            await pump(readable, async (chunk, last) => {
              if (res.destroyed) throw new Error('client went away')
              // The last piece and the end of the answer go out in one write.
              if (last) { res.end(chunk); return }
              if (!res.write(chunk)) await new Promise<void>(resolve => { res.once('drain', resolve); res.once('close', resolve) })
            })
          } else {
            for await (const chunk of answer.body) {
              if (!res.write(chunk)) await new Promise<void>(resolve => { res.once('drain', resolve); res.once('close', resolve) })
              if (res.destroyed) return
            }
            res.end()
          }
        } catch (e) {
          // Past the first byte the answer is the client's: end it with an in-band error.
          if (!res.destroyed) fail(res, openai, 502, `${node.record.name} failed while answering: ${errorMessage(e)}`)
        }
        return
      }
      if (nodes.length === 1 && last !== undefined) fail(res, openai, statusOf(last), errorMessage(last))
      else fail(res, openai, 502, `no node could serve ${model}${last !== undefined ? `: ${errorMessage(last)}` : ''}`)
    })
  }
}
