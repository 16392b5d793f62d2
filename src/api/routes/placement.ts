import { OllamadError } from '../../errors.js'
import * as control from '../../policy/index.js'
import { sendJson, readJson, modelField, optBool, optString, badRequest } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'

/** Routes that change what the cluster should hold: jobs, replicas, pins, migrations, rebalance, deletion, apply. */
export function addPlacementRoutes (router: Router, c: ApiComponents): void {
  const view = (): control.ControlView => c.cluster.view()
  const commit = async (writes: control.IntentWrite[]): Promise<void> => { await c.cluster.commit(writes) }
  const model = (body: Record<string, unknown>): string => {
    const m = modelField(body)
    if (m === '') throw badRequest('model is required')
    return m
  }
  const node = (body: Record<string, unknown>, key: string): string => {
    const n = optString(body, key)
    if (n === undefined || n === '') throw badRequest(`field "${key}" is required`)
    return n
  }

  router.add('POST', '/api/cluster/pull', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    const r = control.createJob(view(), model(body), body.nodes, optBool(body, 'insecure') ?? false)
    await commit(r.writes)
    sendJson(res, r.existing ? 200 : 202, { id: r.id, existing: r.existing })
  })
  router.add('GET', '/api/cluster/jobs', 'read', async ({ res }) => { sendJson(res, 200, { jobs: control.listJobs(view()) }) })
  router.add('GET', '/api/cluster/jobs/:id', 'read', async ({ res, params }) => {
    const j = control.jobView(view(), params.id as string)
    if (j === undefined) throw new OllamadError('JOB_NOT_FOUND', `no job ${JSON.stringify((params.id as string).slice(0, 40))}`)
    sendJson(res, 200, j)
  })
  router.add('DELETE', '/api/cluster/jobs/:id', 'cluster', async ({ res, params }) => {
    await commit(control.cancelJob(view(), params.id as string))
    sendJson(res, 200, control.jobView(view(), params.id as string) ?? {})
  })

  router.add('POST', '/api/cluster/replicate', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    await commit(control.replicate(view(), model(body), body.replicas))
    sendJson(res, 200, { status: 'success' })
  })
  for (const [path, on] of [['/api/cluster/pin', true], ['/api/cluster/unpin', false]] as const) {
    router.add('POST', path, 'cluster', async ({ req, res }) => {
      const body = await readJson(req)
      await commit(control.pin(view(), model(body), node(body, 'node'), on))
      sendJson(res, 200, { status: 'success' })
    })
  }
  router.add('POST', '/api/cluster/migrate', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    await commit(control.migrate(view(), model(body), node(body, 'from'), node(body, 'to')))
    sendJson(res, 200, { status: 'success' })
  })
  router.add('POST', '/api/cluster/rebalance', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    const r = control.rebalance(view())
    if (optBool(body, 'dry_run') !== true) await commit(r.writes)
    sendJson(res, 200, { moves: r.moves })
  })
  router.add('POST', '/api/cluster/delete', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    await commit(control.clusterDelete(view(), model(body)))
    sendJson(res, 200, { status: 'success' })
  })
  router.add('POST', '/api/cluster/apply', 'cluster', async ({ req, res }) => {
    const body = await readJson(req)
    if (typeof body.spec !== 'object' || body.spec === null || Array.isArray(body.spec)) throw badRequest('field "spec" must be an object')
    const r = control.applySpec(view(), body.spec as Record<string, unknown>)
    if (optBool(body, 'dry_run') !== true) await commit(r.writes)
    sendJson(res, 200, { changes: r.changes })
  })
}
