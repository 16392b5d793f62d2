// npm run bench:wan — one model pulled to 4 nodes at once through a byte-counting proxy in front
// of a local docker-registry (the "WAN"): as an ollamad cluster job (each chunk crosses the WAN
// once), against 4 independent Ollama-style pulls (4 nodes that are each a cluster of one) in the
// same run, and against one node's pull alone. Prints upstream bytes and wall time for each, and
// the ratios. BENCH_SIZE_MIB sets the model size (256 by default), BENCH_NODES the node count (4).
// Then, as root, the same in network namespaces where the WAN is slower than the LAN (as on a
// real site): BENCH_WAN_MBIT (100) for the registry's uplink, BENCH_LAN_MBIT (1000) for the nodes'.
import '../src/polyfill.js'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry } from '../test/fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../test/fixtures/counting-proxy.js'
import { startCluster, DEFAULT_LIVENESS } from '../test/fixtures/cluster.js'
import { startDaemon, tempDir, type RunningDaemon } from '../test/fixtures/daemon.js'
import { pushRandomModel, waitForJob, type JobView } from './bench-util.js'
import { chunkSize } from '../src/store/index.js'
import { netnsUnavailable } from './netns.js'
import { wanLan } from './wan-lan.js'

const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 256) * 1024 * 1024
const NODES = Number(process.env.BENCH_NODES ?? 4)
const MiB = 1024 * 1024
const WAN_MBIT = Number(process.env.BENCH_WAN_MBIT ?? 100)
const LAN_MBIT = Number(process.env.BENCH_LAN_MBIT ?? 1000)

interface Run { secs: number, upstream: number }

async function measure (proxy: CountingProxy, fn: () => Promise<void>): Promise<Run> {
  const b0 = proxy.blobBytes()
  const t0 = process.hrtime.bigint()
  await fn()
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, upstream: proxy.blobBytes() - b0 }
}

async function main (): Promise<void> {
  const work = await tempDir('bench-wan')
  const registry = await startRegistry()
  const proxy = await startCountingProxy(registry.url)
  const running: RunningDaemon[] = []
  try {
    const blobPath = join(work, 'model.bin')
    const { total } = await pushRandomModel(registry.url, 'library/wan', blobPath, SIZE)
    const model = `${proxy.host}/library/wan:latest`
    const common = ['--insecure-registry', proxy.host]

    // Independent pulls: nodes that share nothing, each pulling from the registry itself.
    const alone: RunningDaemon[] = []
    for (let i = 0; i < NODES; i++) alone.push(await startDaemon({ args: [...common, '--name', `solo${i}`] }))
    running.push(...alone)
    const pull = async (d: RunningDaemon): Promise<void> => {
      const r = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      if (r.status !== 200) throw new Error(`pull on ${d.url}: ${await r.text()}`)
    }
    // One node's pull from the registry, alone on the machine: the yardstick for the job.
    const solo = alone[0] as RunningDaemon
    const one = await measure(proxy, async () => { await pull(solo) })
    const del = await fetch(`${solo.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model }) })
    if (del.status !== 200) throw new Error(`delete after the single pull: ${await del.text()}`)
    const independent = await measure(proxy, async () => {
      await Promise.all(alone.map(pull))
    })
    for (const d of alone) await d.kill('SIGKILL')

    // The cluster: one job to every node.
    const { nodes } = await startCluster(NODES, () => ({ args: [...common, ...DEFAULT_LIVENESS] }))
    running.push(...nodes)
    const first = nodes[0] as RunningDaemon
    for (const d of nodes) {
      for (;;) {
        const s = await (await fetch(`${d.url}/api/cluster/state`)).json() as { nodes: { alive: number } }
        if (s.nodes.alive === NODES) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    const cluster = await measure(proxy, async () => {
      const r = await fetch(`${first.url}/api/cluster/pull`, { method: 'POST', headers: first.auth, body: JSON.stringify({ model, nodes: 'all' }) })
      const { id } = await r.json() as { id: string }
      await waitForJob(async (path) => await (await fetch(`${first.url}${path}`)).json() as JobView, id)
    })

    const line = (label: string, r: Run): string => `${label.padEnd(34)} upstream ${(r.upstream / MiB).toFixed(1).padStart(7)} MiB (${(r.upstream / total).toFixed(2)}x the model), ${r.secs.toFixed(2)} s`
    console.log(`model ${(total / MiB).toFixed(1)} MiB to ${NODES} nodes, registry behind a counting proxy on loopback`)
    console.log(line('one node alone', one))
    console.log(line(`${NODES} independent pulls`, independent))
    console.log(line('ollamad cluster pull (one job)', cluster))
    console.log(`upstream bytes: cluster / independent = ${(cluster.upstream / independent.upstream).toFixed(3)} (ideal ${(1 / NODES).toFixed(3)}); time: ${(cluster.secs / independent.secs).toFixed(2)}x`)
    console.log(`target: cluster upstream <= model + one chunk (${chunkSize(SIZE) / MiB} MiB): ${cluster.upstream <= total + chunkSize(SIZE) ? 'met' : 'NOT met'}`)
    console.log(`target: the job done on all ${NODES} within 1.2x one node's pull alone: ${(cluster.secs / one.secs).toFixed(2)}x (${cluster.secs / one.secs <= 1.2 ? 'met' : 'NOT met'}; on loopback the "WAN" is as fast as the LAN, so ${NODES} nodes do ${NODES}x one node's hashing and writing on the same cores)`)
  } finally {
    for (const d of running) await d.kill('SIGKILL').catch(() => {})
    await proxy.close()
    await registry.dispose()
    await rm(work, { recursive: true, force: true })
  }
}

/** The job where the WAN is the narrow link: the target's own setting. */
async function shaped (): Promise<void> {
  const why = netnsUnavailable()
  if (why !== undefined) { console.log(`WAN slower than the LAN: skipped (${why})`); return }
  const r = await wanLan({ size: SIZE, nodes: NODES, wanMbit: WAN_MBIT, lanMbit: LAN_MBIT })
  const line = (label: string, x: { secs: number, wireBytes: number }): string => `${label.padEnd(34)} WAN bytes ${(x.wireBytes / MiB).toFixed(1).padStart(7)} MiB (${(x.wireBytes / r.model).toFixed(3)}x the model, on the wire), ${x.secs.toFixed(2)} s`
  console.log(`\nWAN ${WAN_MBIT} Mbit/s to a LAN of ${NODES} nodes at ${LAN_MBIT} Mbit/s each (network namespaces, tbf), ${(r.model / MiB).toFixed(1)} MiB models, F/WAN = ${(r.model * 8 / (WAN_MBIT * 1e6)).toFixed(2)} s`)
  console.log(line('one node alone (model A)', r.one))
  console.log(line('ollamad cluster pull (model B)', r.cluster))
  const ratio = r.cluster.secs / r.one.secs
  console.log(`target: the job done on all ${NODES} within 1.2x one node's pull alone: ${ratio.toFixed(2)}x (${ratio <= 1.2 ? 'met' : 'NOT met'}); WAN bytes cluster / one node: ${(r.cluster.wireBytes / r.one.wireBytes).toFixed(3)} (1.0: each byte crossed once)`)
}

await main()
await shaped()
