import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startCluster } from '../fixtures/cluster.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/wait-for.js'
import { startOllamaStandin, type OllamaStandin } from '../fixtures/ollama-standin.js'

const MiB = 1024 * 1024
/** Debian's chromium (scripts/setup-test-deps.sh installs it); Playwright drives it over CDP. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Set to a folder to keep screenshots of the page (docs/images is where the README's come from). */
const SHOTS = process.env.OLLAMAD_SCREENSHOTS

describe('the dashboard, in a real browser against a real cluster', function () {
  this.timeout(180_000)
  let registry: RunningRegistry
  let browser: Browser
  let nodes: RunningDaemon[] = []
  const ollamas: OllamaStandin[] = []
  let page: Page
  const requested: string[] = []
  const model = makeTinyModel({ seed: 'dashboard', modelBytes: 8 * MiB })
  let name: string

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/shown', 'latest', model)
    name = `${new URL(registry.url).host}/library/shown:latest`
    for (let i = 0; i < 3; i++) ollamas.push(await startOllamaStandin({ modelSize: 6 * MiB }))
    nodes = (await startCluster(3, (i) => ({ ollama: ollamas[i]?.url, args: ['--insecure-registry', new URL(registry.url).host] }))).nodes
    for (const d of nodes) {
      await waitFor(async () => ((await (await fetch(`${d.url}/api/cluster/state`)).json()) as { nodes: { alive: number } }).nodes.alive === 3, 15_000, 'all alive')
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    page.on('request', r => { requested.push(r.url()) })
    if (SHOTS !== undefined) await mkdir(SHOTS, { recursive: true })
  })
  after(async () => {
    await browser?.close()
    for (const d of nodes) await d.kill('SIGKILL')
    for (const o of ollamas) await o.close()
    await registry?.dispose()
  })

  const shot = async (file: string): Promise<void> => { if (SHOTS !== undefined) await page.screenshot({ path: `${SHOTS}/${file}`, fullPage: true }) }
  const a = (): RunningDaemon => nodes[0] as RunningDaemon

  it('shows every node alive, from assets of its own origin only, in a page no other site may frame', async () => {
    const res = await page.goto(`${a().url}/ui`)
    assert.equal(res?.status(), 200)
    assert.equal(res?.headers()['x-frame-options'], 'DENY')
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'self'/)
    await page.locator('#live', { hasText: 'live' }).waitFor()
    await waitFor(async () => await page.locator('#nodes tbody tr').count() === 3, 10_000, 'three node rows')
    for (const n of ['node1', 'node2', 'node3']) {
      assert.equal(await page.locator(`#nodes tr[data-node="${n}"] .state`).first().textContent(), 'alive')
    }
    assert.match(await page.locator('#nodes tr[data-node="node1"]').textContent() ?? '', /this node/)
    await waitFor(async () => await page.locator('#nodes .ollama', { hasText: 'reachable' }).count() === 3, 10_000, 'every Ollama reachable')
    const origin = new URL(a().url).origin
    assert.ok(requested.length >= 6, requested.join(' '))
    assert.deepEqual(requested.filter(u => !u.startsWith(origin)), [], 'nothing from another origin (works offline)')
  })

  it('says the token is missing, then pulls with it, and the matrix and the job fill in live', async () => {
    const pull = page.locator('form#pull')
    await pull.locator('input[name="model"]').fill(name)
    await pull.locator('button[type="submit"]').click()
    await pull.locator('[role="alert"]', { hasText: 'needs the cluster token' }).waitFor()
    assert.equal(((await (await fetch(`${a().url}/api/cluster/jobs`)).json()) as { jobs: unknown[] }).jobs.length, 0, 'nothing was started')

    await page.locator('#token').fill(a().token)
    await page.locator('form.token button').click()
    await pull.locator('button[type="submit"]').click()
    await pull.locator('[role="status"]', { hasText: 'started' }).waitFor()
    // No reload: the server-sent events bring the change.
    const row = page.locator(`#matrix tr[data-model="${name}"]`)
    await row.waitFor({ timeout: 60_000 })
    await waitFor(async () => await row.locator('td.cell[data-state="complete"]').count() === 3, 60_000, 'three complete cells')
    await page.locator('#jobs .job[data-state="completed"]').waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('#jobs .job .job-node[data-state="completed"]').count(), 3)

    // A model loaded on a node shows in that node's row.
    const gen = await fetch(`${a().url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'hi', stream: false }) })
    assert.equal(gen.status, 200, await gen.text())
    await page.locator('#nodes td.loaded', { hasText: 'shown' }).first().waitFor({ timeout: 15_000 })
    await page.waitForTimeout(600) // the bars' transitions end
    await shot('dashboard.png')
  })

  it('pins from the page and outlines the pinned cell; a wrong token is refused with a clear line', async () => {
    await page.locator('#token').fill('not-the-token')
    await page.locator('form.token button').click()
    const pin = page.locator('form#pin')
    await pin.locator('input[name="model"]').fill(name)
    await pin.locator('input[name="node"]').fill('node2')
    await pin.locator('button[type="submit"]').click()
    await pin.locator('[role="alert"]', { hasText: 'token was refused' }).waitFor()

    await page.locator('#token').fill(a().token)
    await page.locator('form.token button').click()
    await pin.locator('button[type="submit"]').click()
    await pin.locator('[role="status"]', { hasText: 'pinned to node2' }).waitFor()
    await page.locator(`#matrix tr[data-model="${name}"] td.cell.pinned[data-node="node2"]`).waitFor({ timeout: 10_000 })
  })

  it('shows the rebalance plan before anything is applied', async () => {
    const before = ((await (await fetch(`${a().url}/api/cluster/state`)).json()) as { intents: { count: number } }).intents.count
    const box = page.locator('#rebalance')
    await box.locator('button', { hasText: 'Show the plan' }).click()
    await box.locator('.moves').waitFor()
    const after = ((await (await fetch(`${a().url}/api/cluster/state`)).json()) as { intents: { count: number } }).intents.count
    assert.equal(after, before, 'the dry run writes nothing')
    await shot('dashboard-actions.png')
  })

  it('stays usable at 64 nodes and 200 models: the whole matrix renders, and the filter narrows it', async () => {
    // The page as it is, fed a snapshot of a rack larger than this machine can run.
    const nodes = Array.from({ length: 64 }, (_, i) => ({
      id: `peer-${i}`, name: `gpu-${String(i + 1).padStart(2, '0')}`, self: i === 0, liveness: i === 63 ? 'gone' : 'alive', version: '0.1.0', ollama: 'up',
      disk: { total: 4e12, free: 1e12 }, gpus: [{ name: 'H100', total: 80e9, used: 40e9, free: 40e9 }], loaded: [], rates: { from_peers: 1e8, from_registry: 0, to_peers: 5e7 }, no_room: [], last_update: Date.now()
    }))
    const models = Array.from({ length: 200 }, (_, m) => ({
      name: `family-${m % 20}/model-${m}:latest`, digest: m.toString(16).padStart(64, '0'), size: 4e9, replicas: 2,
      cells: nodes.map((_, i) => (i + m) % 5 === 0 ? 'c' : (i + m) % 7 === 0 ? 40 : 'a'), pinned: m % 10 === 0 ? [m % 64] : []
    }))
    const big = JSON.stringify({ self: 'peer-0', at: Date.now(), nodes, models, jobs: [] })
    const wide = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
    await wide.route('**/api/cluster/events', async route => { await route.fulfill({ status: 200, contentType: 'text/event-stream', body: `event: snapshot\ndata: ${big}\n\n` }) })
    const started = Date.now()
    await wide.goto(`${a().url}/ui`)
    await waitFor(async () => await wide.locator('#matrix tbody tr').count() === 200, 20_000, '200 rows')
    process.stdout.write(`      (64 x 200 matrix rendered in ${Date.now() - started} ms)\n`)
    assert.equal(await wide.locator('#matrix td.cell').count(), 64 * 200)
    assert.equal(await wide.locator('#nodes tbody tr').count(), 64)
    await wide.locator('input[aria-label="filter models"]').fill('model-12')
    await waitFor(async () => await wide.locator('#matrix tbody tr').count() === 11, 5_000, 'model-12 and model-120..129')
    await wide.close()
  })

  it('on a node whose reads need the token, loads the page and asks for the token before it shows anything', async () => {
    const closed = await startDaemon({ args: ['--open', 'none', '--no-mdns'] })
    try {
      assert.equal((await fetch(`${closed.url}/api/cluster/events`)).status, 401)
      const p = await browser.newPage()
      const res = await p.goto(`${closed.url}/ui`)
      assert.equal(res?.status(), 200, 'the page itself holds no data and is open')
      await p.locator('#needs-token').waitFor()
      assert.equal(await p.locator('#nodes').count(), 0, 'no cluster data without the token')
      await p.locator('#token').fill(closed.token)
      await p.locator('form.token button').click()
      await p.locator('#nodes tbody tr').first().waitFor({ timeout: 10_000 })
      await p.locator('#live', { hasText: 'live' }).waitFor()
      await p.close()
    } finally {
      await closed.kill('SIGKILL')
    }
  })
})

