import { OllamadError } from '../../errors.js'
import { displayName, modelDetails, readModelConfig, digestHex, nameKey, parseModelName, type ModelName } from '../../store/index.js'
import type { Member } from '../../cluster/index.js'
import { readJson, sendJson, badRequest, modelField, optString } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { Router } from '../router.js'
import { createRemoteDetails } from '../remote-details.js'

export const EMPTY_DETAILS = { parent_model: '', format: '', family: '', families: null, parameter_size: '', quantization_level: '' }
/** How long a listing waits for the details of a model held only elsewhere, the first time. */
const REMOTE_DETAILS_WAIT_MS = 1_500

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
  const remoteDetails = createRemoteDetails(c.swarm)
  router.add(['GET', 'HEAD'], '/api/tags', 'read', async ({ res }) => {
    await c.store.rescan()
    const self = c.state.member(c.state.selfId)?.record.name ?? ''
    const holders = clusterHolders(c.state.members())
    // Every copy in the cluster by name: this node's from its store, the others' from their records.
    interface Copy { name: ModelName, digest: string, size: number, modified: number, nodes: string[], details: () => Promise<unknown> }
    const byName = new Map<string, Copy[]>()
    const put = (copy: Copy): void => { const k = nameKey(copy.name); byName.set(k, [...(byName.get(k) ?? []), copy]) }
    const local = new Set<string>()
    for (const e of c.store.list()) {
      const key = `${nameKey(e.name)}@${digestHex(e.digest)}`
      local.add(key)
      const others = holders.get(key)
      put({ name: e.name, digest: digestHex(e.digest), size: e.size, modified: e.modifiedAt.getTime(), nodes: [self, ...(others?.nodes ?? [])], details: async () => modelDetails(e, await readModelConfig(c.store, e)) })
    }
    for (const [key, h] of holders) {
      if (local.has(key)) continue
      put({ name: h.name, digest: h.digest, size: h.size, modified: h.pulledAt, nodes: h.nodes, details: async () => await remoteDetails.get(h.digest, h.ids, REMOTE_DETAILS_WAIT_MS) ?? EMPTY_DETAILS })
    }
    // One entry per name, as Ollama lists names: the newest digest, the others named alongside.
    const models = await Promise.all([...byName.values()].map(async copies => {
      const [top, ...rest] = [...copies].sort((a, b) => b.modified - a.modified || (a.digest < b.digest ? -1 : 1)) as [Copy, ...Copy[]]
      return {
        name: displayName(top.name),
        model: displayName(top.name),
        modified_at: new Date(top.modified).toISOString(),
        size: top.size,
        digest: top.digest,
        details: await top.details(),
        nodes: top.nodes,
        ...(rest.length > 0 ? { other_digests: rest.map(r => ({ digest: r.digest, nodes: r.nodes })) } : {})
      }
    }))
    // Ollama's order: newest first, by the second.
    models.sort((a, b) => Math.floor(Date.parse(b.modified_at) / 1000) - Math.floor(Date.parse(a.modified_at) / 1000))
    sendJson(res, 200, { models })
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
