import { OllamadError } from '../../errors.js'
import { displayName, modelDetails, readModelConfig, digestHex, nameKey, parseModelName, type ModelName } from '../../store/index.js'
import type { Member } from '../../cluster/index.js'
import { readJson, sendJson, badRequest, modelField, optString } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { Router } from '../router.js'

interface Holding { name: ModelName, digest: string, size: number, pulledAt: number, nodes: string[], ids: string[] }

/** Models in the node records of live members, by name and manifest digest, with the nodes that hold each. */
export function clusterHolders (members: Member[]): Map<string, Holding> {
  const out = new Map<string, Holding>()
  for (const m of members) {
    // This node's own truth is its store; its record may lag a change by a moment.
    if (m.liveness === 'gone' || m.self) continue
    for (const h of m.record.models) {
      let name: ModelName
      try { name = parseModelName(h.name) } catch { continue }
      const digest = Buffer.from(h.manifestDigest).toString('hex')
      const key = `${nameKey(name)}@${digest}`
      const e = out.get(key) ?? { name, digest, size: Number(h.size), pulledAt: Number(h.pulledAt), nodes: [], ids: [] }
      e.nodes.push(m.record.name)
      e.ids.push(m.peerId)
      out.set(key, e)
    }
  }
  return out
}

export function addModelRoutes (router: Router, c: ApiComponents): void {
  router.add(['GET', 'HEAD'], '/api/tags', 'read', async ({ res }) => {
    await c.store.rescan()
    const entries = c.store.list().sort((a, b) => Math.floor(b.modifiedAt.getTime() / 1000) - Math.floor(a.modifiedAt.getTime() / 1000))
    const holders = clusterHolders(c.state.members())
    const local = await Promise.all(entries.map(async e => {
      const cfg = await readModelConfig(c.store, e)
      const key = `${nameKey(e.name)}@${digestHex(e.digest)}`
      return {
        name: displayName(e.name),
        model: displayName(e.name),
        modified_at: e.modifiedAt.toISOString(),
        size: e.size,
        digest: digestHex(e.digest),
        details: modelDetails(e, cfg),
        nodes: [c.state.member(c.state.selfId)?.record.name ?? '', ...(holders.get(key)?.nodes ?? [])]
      }
    }))
    // Models held only by other nodes follow, each naming its holders.
    const seen = new Set(entries.map(e => `${nameKey(e.name)}@${digestHex(e.digest)}`))
    const remote = [...holders.entries()].filter(([k]) => !seen.has(k)).map(([, h]) => ({
      name: displayName(h.name),
      model: displayName(h.name),
      modified_at: new Date(h.pulledAt).toISOString(),
      size: h.size,
      digest: h.digest,
      details: { parent_model: '', format: '', family: '', families: null, parameter_size: '', quantization_level: '' },
      nodes: h.nodes
    }))
    sendJson(res, 200, { models: [...local, ...remote] })
  })

  router.add('DELETE', '/api/delete', 'write', async ({ req, res }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw badRequest('model is required')
    const name = resolveName(c.store, raw, () => new OllamadError('INVALID_NAME', `name ${JSON.stringify(raw)} is invalid`))
    try {
      await c.store.remove(name)
    } catch (e) {
      if (e instanceof OllamadError && e.code === 'MODEL_NOT_FOUND') {
        const elsewhere = [...clusterHolders(c.state.members()).values()].filter(h => nameKey(h.name) === nameKey(name)).flatMap(h => h.nodes)
        throw new OllamadError('MODEL_NOT_FOUND', elsewhere.length === 0
          ? `model '${raw}' not found`
          : `model '${raw}' not found on this node; it is held by ${[...new Set(elsewhere)].join(', ')} (delete it there, or cluster-wide with: ollamad rm ${raw} --cluster)`)
      }
      throw e
    }
    c.log.info(`deleted ${displayName(name)}`)
    res.writeHead(200).end()
  })

  router.add('POST', '/api/copy', 'write', async ({ req, res }) => {
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
