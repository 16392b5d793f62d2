// npm run bench:gossip [-- --nodes 32 --changes 10 --heartbeat MS --poll MS] — starts real
// daemons on loopback (mdns off, one swarm key, each bootstrapping from 1-3 earlier nodes, one at
// a time), waits until every node sees all of them alive, then makes catalog changes (POST
// /api/copy of a tiny model) on one node at a time and measures, for every other node, how long
// until its /api/cluster/nodes shows the change. Prints p50/p95/max (target p95 < 1 s), memory and
// CPU. Everything is stopped and removed at exit, also on failure or a signal.
import '../src/polyfill.js'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { startDaemon, type RunningDaemon } from '../test/fixtures/daemon.js'
import { writeSwarmKey } from '../test/fixtures/cluster.js'
import { makeTinyModel } from '../test/fixtures/tiny-model.js'
import { sha256 } from '../test/fixtures/blob.js'
import { cpuSeconds, hookExit, machineBusySeconds, quantile, rssMiB } from './netns.js'
import { waitFor } from '../test/fixtures/wait-for.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const NODES = arg('--nodes', 32)
const CHANGES = arg('--changes', 10)
const POLL_MS = arg('--poll', 50)
// The daemon's own heartbeat and liveness times unless --heartbeat is given. A change goes out at
// once (not on the next heartbeat), and 32 daemons at a 1 s heartbeat need far more than 2 cores.
const HEARTBEAT_MS = arg('--heartbeat', 3000)
const LIVENESS = process.argv.includes('--heartbeat')
  ? ['--heartbeat', String(HEARTBEAT_MS), '--suspect-after', String(5 * HEARTBEAT_MS), '--gone-after', String(15 * HEARTBEAT_MS)]
  : []
const CHANGE_DEADLINE_MS = 30_000
const TARGET_P95_S = 1

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const fmt = (s: number): string => Number.isFinite(s) ? s.toFixed(3) : 'never'

/** Starts the daemons one at a time, each after the previous join has settled; reports what joins cost. */
async function startNodes (key: string, nodes: RunningDaemon[]): Promise<void> {
  for (let i = 0; i < NODES; i++) {
    // 1 to 3 distinct earlier nodes as bootstrap peers; the keeper meshes the rest from the records.
    const earlier = [...nodes].sort(() => Math.random() - 0.5).slice(0, 1 + (i % 3))
    const boot = earlier.flatMap(d => ['--bootstrap', d.p2pAddr])
    const m0 = machineBusySeconds()
    const t0 = performance.now()
    const d = await startDaemon({ args: ['--swarm-key', key, '--name', `g${String(i).padStart(2, '0')}`, ...LIVENESS, ...boot] })
    nodes.push(d)
    // A join sets off syncs and re-published records on every node: let that settle first.
    await waitFor(async () => (await views([d]))[0]?.alive === nodes.length, 120_000, `g${i} to see ${nodes.length} live nodes`, { retryErrors: true })
      .catch(async (e: Error) => { throw new Error(`${e.message}; ${viewSummary(await views(nodes))}`) })
    await sleep(1000)
    if ((i + 1) % 8 === 0) {
      console.log(`  ${i + 1} daemons; the last join took ${((performance.now() - t0) / 1000).toFixed(1)} s and ${(machineBusySeconds() - m0).toFixed(1)} CPU-s machine-wide`)
    }
  }
}

/** How many nodes each daemon sees, and in which liveness state. */
async function views (nodes: RunningDaemon[]): Promise<Array<{ alive: number, suspect: number, gone: number }>> {
  return await Promise.all(nodes.map(async d => {
    const r = await (await fetch(`${d.url}/api/cluster/nodes`)).json() as { nodes: Array<{ liveness: string }> }
    const count = (l: string): number => r.nodes.filter(n => n.liveness === l).length
    return { alive: count('alive'), suspect: count('suspect'), gone: count('gone') }
  }))
}

function viewSummary (v: Array<{ alive: number, suspect: number, gone: number }>): string {
  const alive = v.map(x => x.alive)
  return `alive seen per node: min ${Math.min(...alive)}, p50 ${quantile(alive, 0.5)}, max ${Math.max(...alive)}; ` +
    `suspect seen: ${v.reduce((a, x) => a + x.suspect, 0)}, gone seen: ${v.reduce((a, x) => a + x.gone, 0)} (sums over nodes)`
}

async function waitForFullView (nodes: RunningDaemon[]): Promise<void> {
  const deadline = Date.now() + 180_000
  let lastReport = Date.now()
  for (;;) {
    const v = await views(nodes)
    if (v.every(x => x.alive === NODES)) return
    if (Date.now() > deadline || Date.now() - lastReport > 10_000) {
      const line = viewSummary(v)
      if (Date.now() > deadline) throw new Error(`not every node sees ${NODES} alive nodes after 180 s: ${line}`)
      console.log(`  ${line}`)
      lastReport = Date.now()
    }
    await sleep(500)
  }
}

/** Uploads the tiny model's GGUF and creates `base` from it on one node. */
async function createBase (d: RunningDaemon, base: string): Promise<void> {
  const gguf = (makeTinyModel({ seed: 'gossip' }).layers[0] as { data: Buffer }).data
  const digest = sha256(gguf)
  const up = await fetch(`${d.url}/api/blobs/${digest}`, { method: 'POST', body: gguf })
  if (up.status !== 200 && up.status !== 201) throw new Error(`blob upload: ${up.status} ${await up.text()}`)
  const res = await fetch(`${d.url}/api/create`, { method: 'POST', body: JSON.stringify({ model: base, files: { 'model.gguf': digest }, stream: false }) })
  if (res.status !== 200) throw new Error(`create ${base}: ${res.status} ${await res.text()}`)
}

/** Polls one node until its view of the cluster contains `needle`; seconds since t0, or Infinity. */
async function seenAfter (d: RunningDaemon, needle: string, t0: number): Promise<number> {
  while (performance.now() - t0 < CHANGE_DEADLINE_MS) {
    const text = await (await fetch(`${d.url}/api/cluster/nodes`)).text()
    if (text.includes(needle)) return (performance.now() - t0) / 1000
    await sleep(POLL_MS)
  }
  return Infinity
}

/** Sum of CPU seconds used by the daemons (and this harness) over `fn`. */
async function cpuOver<T> (nodes: RunningDaemon[], fn: () => Promise<T>): Promise<{ value: T, daemons: number, harness: number, machine: number, wall: number }> {
  const pids = nodes.map(d => d.proc.pid as number)
  const before = pids.map(cpuSeconds)
  const m0 = machineBusySeconds()
  const h0 = process.cpuUsage()
  const t0 = performance.now()
  const value = await fn()
  const wall = (performance.now() - t0) / 1000
  const h = process.cpuUsage(h0)
  const daemons = pids.reduce((s, p, i) => s + cpuSeconds(p) - (before[i] as number), 0)
  return { value, daemons, harness: (h.user + h.system) / 1e6, machine: machineBusySeconds() - m0, wall }
}

/** CPU over a phase, in % of one core: the daemons, this harness, and the rest of the machine (other work). */
const cpuLine = (c: { daemons: number, harness: number, machine: number, wall: number }): string =>
  `daemons ${pct(c.daemons, c.wall)}, harness ${pct(c.harness, c.wall)}, other processes ${pct(Math.max(0, c.machine - c.daemons - c.harness), c.wall)} (of ${cpus().length * 100}%)`

const pct = (cpu: number, wall: number): string => `${(100 * cpu / wall).toFixed(0)}%`

function memory (nodes: RunningDaemon[]): string {
  const m = nodes.map(d => rssMiB(d.proc.pid as number))
  const rss = m.map(x => x.rss)
  return `RSS per daemon p50 ${quantile(rss, 0.5).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB, ` +
    `peak (VmHWM) max ${Math.max(...m.map(x => x.peak)).toFixed(0)} MiB, sum ${rss.reduce((a, b) => a + b, 0).toFixed(0)} MiB`
}

async function main (): Promise<void> {
  hookExit()
  const key = await writeSwarmKey()
  console.log(`starting ${NODES} daemons (heartbeat ${HEARTBEAT_MS} ms${LIVENESS.length === 0 ? ', the default' : ''}; mdns off; loopback)`)
  const nodes: RunningDaemon[] = []
  try {
    const started = await cpuOver([], async () => { await startNodes(key, nodes) })
    const formed = await cpuOver(nodes, async () => { await waitForFullView(nodes) })
    console.log(`start-up ${started.wall.toFixed(1)} s; every node sees ${NODES} alive ${formed.wall.toFixed(1)} s later`)
    console.log(`CPU while forming: ${cpuLine(formed)}`)
    console.log(`memory after forming: ${memory(nodes)}`)
    const idle = await cpuOver(nodes, async () => { await sleep(10_000) })
    console.log(`CPU idle (heartbeats only, 10 s): ${cpuLine(idle)}; ${pct(idle.daemons / NODES, idle.wall)} per daemon`)

    // Changes rotate over three nodes far apart in start order; each holds a base model to copy.
    const changers = [nodes[NODES - 1], nodes[Math.floor(NODES / 2)], nodes[0]] as RunningDaemon[]
    for (const c of changers) await createBase(c, 'gossip-base')
    await sleep(5000)
    const samples: number[] = []
    let missed = 0
    const run = await cpuOver(nodes, async () => {
      for (let k = 1; k <= CHANGES; k++) {
        const changer = changers[k % changers.length] as RunningDaemon
        const others = nodes.filter(d => d !== changer)
        const name = `gossip-${k}`
        const t0 = performance.now()
        const copy = await fetch(`${changer.url}/api/copy`, { method: 'POST', body: JSON.stringify({ source: 'gossip-base', destination: name }) })
        if (copy.status !== 200) throw new Error(`copy on ${changer.url}: ${copy.status} ${await copy.text()}`)
        const copyS = (performance.now() - t0) / 1000
        const times = await Promise.all(others.map(async d => await seenAfter(d, `/${name}:`, t0)))
        missed += times.filter(t => !Number.isFinite(t)).length
        samples.push(...times)
        console.log(`  change ${k} on ${changers.indexOf(changer) === 0 ? 'the last' : changers.indexOf(changer) === 1 ? 'a middle' : 'the first'} node: copy ${fmt(copyS)} s, seen by all ${fmt(Math.max(...times))} s, p50 ${fmt(quantile(times, 0.5))} s`)
        await sleep(1000)
      }
    })
    console.log(`\nnodes: ${NODES}, changes: ${CHANGES}, samples: ${samples.length} (one per change and other node), poll every ${POLL_MS} ms per node`)
    console.log(`time until a change shows in another node's /api/cluster/nodes:`)
    console.log(`  p50 ${fmt(quantile(samples, 0.5))} s, p95 ${fmt(quantile(samples, 0.95))} s, max ${fmt(Math.max(...samples))} s${missed > 0 ? `, never seen (30 s): ${missed}` : ''}`)
    console.log(`  target p95 < ${TARGET_P95_S} s: ${quantile(samples, 0.95) < TARGET_P95_S ? 'met' : 'NOT met'}`)
    console.log(`CPU while changing and polling: ${cpuLine(run)}`)
    console.log(`memory at the end: ${memory(nodes)}; harness RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`)
  } finally {
    await Promise.all(nodes.map(async d => {
      const t = setTimeout(() => { d.proc.kill('SIGKILL') }, 5_000)
      await d.kill('SIGTERM')
      clearTimeout(t)
    }))
  }
}

await main()
