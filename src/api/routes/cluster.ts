import { displayName, parseModelName, type ModelName } from '../../store/index.js'
import type { Member } from '../../cluster/index.js'
import { sendJson, readJson, modelField, optBool, progressWriter } from '../http-util.js'
import { resolveName, type ApiComponents, type SwarmStats } from '../context.js'
import { OllamadError } from '../../errors.js'
import { heldChunks, verifyModels } from '../../transfer/index.js'
import type { Router } from '../router.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const num = (b: bigint): number => Number(b)

export function nodeJson (m: Member): Record<string, unknown> {
  const r = m.record
  return {
    id: m.peerId,
    name: r.name,
    self: m.self,
    liveness: m.liveness,
    addresses: r.addrs,
    api_url: r.apiUrl,
    version: r.version,
    incarnation: num(r.incarnation),
    sequence: num(r.sequence),
    last_update: new Date(m.lastRise).toISOString(),
    disk: { total: num(r.diskTotal), free: num(r.diskFree) },
    gpus: r.gpus.map(g => ({ index: g.index, name: g.name, memory_total: num(g.memoryTotal), memory_used: num(g.memoryUsed), memory_free: num(g.memoryFree), utilization: g.utilization })),
    ollama: r.ollamaUp ? 'up' : 'down',
    loaded: r.loaded.map(l => ({ name: l.name, size: num(l.size), size_vram: num(l.sizeVram), expires_at: l.expiresAt })),
    models: r.models.map(h => ({ name: h.name, digest: hex(h.manifestDigest), size: num(h.size) })),
    // Models the plan gave it that did not fit its disk: the others take them meanwhile.
    no_room: r.noRoom
  }
}

/** Every model anywhere in the cluster with each node's coverage: complete, partial n%, or absent. */
export function clusterModels (members: Member[]): Array<Record<string, unknown>> {
  const byName = new Map<string, { name: string, digest: string, size: number, holders: Set<string> }>()
  for (const m of members) {
    for (const h of m.record.models) {
      let name: string
      try { name = displayName(parseModelName(h.name)) } catch { continue }
      const key = `${name}@${hex(h.manifestDigest)}`
      const e = byName.get(key) ?? { name, digest: hex(h.manifestDigest), size: num(h.size), holders: new Set<string>() }
      e.holders.add(m.peerId)
      byName.set(key, e)
    }
  }
  return [...byName.values()].sort((a, b) => a.name < b.name ? -1 : 1).map(e => ({
    name: e.name,
    digest: e.digest,
    size: e.size,
    nodes: members.map(m => {
      if (e.holders.has(m.peerId)) return { id: m.peerId, name: m.record.name, liveness: m.liveness, coverage: 'complete', percent: 100 }
      const pct = partialPercent(m, e)
      return { id: m.peerId, name: m.record.name, liveness: m.liveness, coverage: pct > 0 ? 'partial' : 'absent', percent: pct }
    })
  }))
}

/** How much of a model a node holds while it downloads, from the blobs in its record whose sizes add up. */
function partialPercent (m: Member, model: { size: number }): number {
  let have = 0
  for (const b of m.record.blobs) {
    if (b.complete) continue
    const bits = heldChunks(b)
    have += num(b.size) * bits.count() / bits.length
  }
  return model.size > 0 && have > 0 ? Math.min(99, Math.floor(100 * have / model.size)) : 0
}

const swarmJson = (s: SwarmStats): Record<string, unknown> => ({
  peers: { connections: s.connections, gossip: s.gossipPeers },
  intents: { count: s.intents, digest: s.intentsDigest }
})

export function addClusterRoutes (router: Router, c: ApiComponents): void {
  router.add('GET', '/api/cluster/nodes', 'read', async ({ res }) => {
    sendJson(res, 200, { nodes: c.state.members().sort((a, b) => a.record.name < b.record.name ? -1 : 1).map(nodeJson) })
  })
  router.add('GET', '/api/cluster/state', 'read', async ({ res }) => {
    const members = c.state.members()
    const count = (l: string): number => members.filter(m => m.liveness === l).length
    sendJson(res, 200, {
      self: c.state.selfId,
      nodes: { alive: count('alive'), suspect: count('suspect'), gone: count('gone') },
      records: { merged: c.state.stats.merged, stale: c.state.stats.stale, dropped: c.state.stats.dropped },
      ...swarmJson(c.swarmStats())
    })
  })

  router.add('GET', '/api/cluster/models', 'read', async ({ res }) => {
    sendJson(res, 200, { models: clusterModels(c.state.members()) })
  })

  router.add('POST', '/api/cluster/verify', 'write', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    let model: ModelName | undefined
    if (raw !== '') {
      model = resolveName(c.store, raw)
      if (await c.store.get(model) === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${raw}' not found on this node`)
    }
    const w = progressWriter(res, optBool(body, 'stream') ?? true)
    try {
      const r = await verifyModels({ store: c.store, puller: c.puller }, { model, signal, onProgress: (p) => { w.write(p) } })
      const problems = [
        ...r.failed.map(f => `could not repair ${f.model} (${f.error}); it is kept as it was`),
        ...r.unreadable.map(u => `cannot read ${u.digest} (${u.error}): a disk or permission problem, not corruption`)
      ]
      if (problems.length > 0) throw new OllamadError('INTERNAL', problems.join('; '))
      w.write({ status: 'success', checked: r.checked, corrupt: r.corrupt, repaired: r.repaired })
      w.end()
    } catch (e) { w.fail(e) }
  })
}
