import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'
import { OllamadError } from '../../errors.js'
import { createDashboardAssets } from './assets.js'
import { createSnapshotStream } from './events.js'
import { createRateTracker, dashboardSnapshot } from './view.js'

export { dashboardSnapshot, createRateTracker, type DashboardSnapshot, type DashboardModel, type DashboardNode } from './view.js'
export { createSnapshotStream, type SnapshotStream } from './events.js'

/**
 * The operator's dashboard: its page and files under /ui, and its live view at
 * /api/cluster/events (server-sent events). Its actions call the same /api/cluster routes as
 * the CLI, with the same token.
 */
export function addDashboardRoutes (router: Router, c: ApiComponents): void {
  const assets = createDashboardAssets()
  const rates = createRateTracker()
  const snapshot = (): string => JSON.stringify(dashboardSnapshot(c.cluster.view(), rates))
  const stream = createSnapshotStream({
    clock: c.clock,
    snapshot,
    onChange: (l) => {
      const offs = [c.state.onChange(l), c.cluster.view().intents.onChange(l)]
      return () => { for (const off of offs) off() }
    }
  })

  router.add('GET', '/api/cluster/dashboard', 'read', async ({ res }) => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
    res.end(snapshot())
  })
  router.add('GET', '/api/cluster/events', 'read', async ({ res, signal }) => { await stream.serve(res, signal) })

  const serveAsset = (path: string) => async ({ res }: { res: import('node:http').ServerResponse }): Promise<void> => {
    const a = await assets.get(path)
    if (a === undefined) throw new OllamadError('MODEL_NOT_FOUND', `no such file ${path}`)
    const headers: Record<string, string> = { 'Content-Type': a.type, 'Content-Length': String(a.body.byteLength), 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' }
    // The page has buttons that change the cluster: no other site may frame it.
    if (a.type.startsWith('text/html')) Object.assign(headers, { 'Content-Security-Policy': await assets.csp(), 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' })
    res.writeHead(200, headers)
    res.end(a.body)
  }
  for (const path of assets.paths) router.add('GET', path, 'asset', serveAsset(path))
}
