import { displayName, modelDetails, nameKey, parseModelName, readModelConfig, type ModelName } from '../../store/index.js'
import { readLoaded } from '../../inference/index.js'
import { sendJson } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'
import { clusterHolders, EMPTY_DETAILS } from './models.js'


/**
 * Ollama's listing routes over the whole cluster, as `/api/tags` already is: `ollama ps` shows
 * what every node has loaded and `/v1/models` every model, each with an extra field naming the
 * nodes, which Ollama's clients ignore.
 */
export function addClusterViewRoutes (router: Router, c: ApiComponents): void {
  const details = async (raw: string): Promise<unknown> => {
    let name: ModelName
    try { name = parseModelName(raw) } catch { return EMPTY_DETAILS }
    const e = c.store.list().find(x => nameKey(x.name) === nameKey(name))
    return e === undefined ? EMPTY_DETAILS : modelDetails(e, await readModelConfig(c.store, e))
  }

  router.add('GET', '/api/ps', 'read', async ({ res }) => {
    const models = []
    for (const m of c.state.members()) {
      if (m.liveness === 'gone') continue
      // This node's own from its Ollama now (a model just loaded shows at once); the others' from their records.
      const loaded = m.self
        ? (await readLoaded(c.upstream)).loaded
        : m.record.loaded.map(l => ({ name: l.name, size: Number(l.size), sizeVram: Number(l.sizeVram), expiresAt: l.expiresAt, digest: l.digest }))
      for (const l of loaded) {
        models.push({ name: l.name, model: l.name, size: l.size, digest: l.digest, details: await details(l.name), expires_at: l.expiresAt, size_vram: l.sizeVram, node: m.record.name })
      }
    }
    // As Ollama sorts them: the one that stays loaded longest first.
    models.sort((a, b) => (a.expires_at < b.expires_at ? 1 : a.expires_at > b.expires_at ? -1 : 0) || (a.node < b.node ? -1 : 1))
    sendJson(res, 200, { models })
  })

  router.add('GET', '/v1/models', 'read', async ({ res }) => {
    const self = c.state.member(c.state.selfId)?.record.name ?? ''
    const byName = new Map<string, { created: number, namespace: string, nodes: Set<string> }>()
    const add = (name: ModelName, created: number, node: string): void => {
      const id = displayName(name)
      const e = byName.get(id) ?? { created, namespace: name.namespace, nodes: new Set<string>() }
      e.created = Math.max(e.created, created)
      e.nodes.add(node)
      byName.set(id, e)
    }
    for (const e of c.store.list()) add(e.name, Math.floor(e.modifiedAt.getTime() / 1000), self)
    for (const h of clusterHolders(c.state.members()).values()) for (const n of h.nodes) add(h.name, Math.floor(h.pulledAt / 1000), n)
    const data = [...byName.entries()]
      .sort((a, b) => b[1].created - a[1].created || (a[0] < b[0] ? -1 : 1))
      .map(([id, e]) => ({ id, object: 'model', created: e.created, owned_by: e.namespace, nodes: [...e.nodes] }))
    sendJson(res, 200, { object: 'list', data })
  })
}
