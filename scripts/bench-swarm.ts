// npm run bench:swarm [-- --size MiB --rate Mbit --hosts N --no-central --no-bittorrent --no-floor --floor-only --logs DIR --timeline --warm-up MiB] — one holder and 8 hosts, each in a
// network namespace on a private bridge (10.77.0.0/24, no route out), each host's egress shaped
// to 100 Mbit/s with tc. The holder pulls a model (128 MiB of random bytes) from a docker-registry
// that runs inside the holder's namespace, on its loopback; then, in one run:
//   central: the holder serves the blob with a plain HTTP server and all hosts curl it at once;
//   bittorrent: opentracker and an aria2 seeder in the holder's namespace, an aria2 leecher on every
//            host, all at once, 1 MiB pieces (the best tool for the same job, as a baseline);
//   floor:   the same bytes on the same LAN with nothing but TCP, on a schedule no swarm can beat
//            (wire-floor.ts): what the LAN itself allows on this machine;
//   swarm:   all hosts POST /api/pull at once and get it from the holder and from each other.
// Prints each time divided by F/u (model size over one uplink's rate, the swarm's lower bound).
// Targets: swarm <= 1.3x F/u; central needs about N x F/u. Needs root; namespaces go at exit.
import '../src/polyfill.js'
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { newSwarmKey } from '../src/p2p/index.js'
import { chunkCount, chunkSize } from '../src/store/index.js'
import { startRegistry } from '../test/fixtures/registry.js'
import { pushRandomModel } from './bench-util.js'
import { createLan, egressBytes, flushDirty, lanSentBytes, waitForMembers, machineCpu, processCpu, netnsUnavailable, nsJson, nsRun, nsSpawn, rssMiB, run, startNsDaemon, tempDir, type Lan, type NsDaemon } from './netns.js'
import { waitFor } from '../test/fixtures/wait-for.js'
import { bittorrentRace } from './bittorrent.js'
import { floorRace } from './wire-floor.js'
import { DEFAULT_INFLIGHT_PER_PEER } from '../src/transfer/download/options.js'
import { SWARM_INFLIGHT_BYTES } from '../src/transfer/constants.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const MiB = 1024 * 1024
const SIZE = Math.round(arg('--size', 128) * MiB)
const RATE_MBIT = arg('--rate', 100)
const HOSTS = arg('--hosts', 8)
const TARGET = 1.3
const CENTRAL = !process.argv.includes('--no-central')
const BITTORRENT = !process.argv.includes('--no-bittorrent')
const FLOOR = !process.argv.includes('--no-floor')
/** Only the floor, with no daemon running beside it: what the LAN alone costs this machine. */
const FLOOR_ONLY = process.argv.includes('--floor-only')
/** Where to write every daemon's log at the end (e.g. with OLLAMAD_DEBUG='ollamad:*'), for a failed run. */
const LOG_DIR = process.argv.includes('--logs') ? process.argv[process.argv.indexOf('--logs') + 1] : undefined
/** Print every uplink's use, second by second, during the swarm pull (where the time goes). */
const TIMELINE = process.argv.includes('--timeline')
/**
 * Before the measured pull, pull another model of this many MiB the same way, unmeasured: the
 * daemons' JavaScript is then compiled as in a node that has pulled before (0: measure cold daemons).
 */
const WARM_UP = Math.round(arg('--warm-up', 0) * MiB)
const HTTP_PORT = 8080

const fileSha256 = async (path: string): Promise<string> => await new Promise((resolve, reject) => {
  const h = createHash('sha256')
  createReadStream(path).on('error', reject).on('data', b => h.update(b)).on('end', () => { resolve(`sha256:${h.digest('hex')}`) })
})

/** The downloader's in-flight limits, read from its compiled source so the report follows the code. */
function inflightLimits (chunk: number): string {
  return `${DEFAULT_INFLIGHT_PER_PEER} per peer, at most ${Math.max(1, Math.floor(SWARM_INFLIGHT_BYTES / chunk))} per download`
}

/** Each uplink's use every second, as % of its rate (holder first), printed as it goes. */
function sampleUplinks (lan: Lan): { stop: () => void } {
  let stopped = false
  void (async () => {
    const t0 = performance.now()
    let prev = await lanSentBytes(lan)
    let t = t0
    for (let second = 1; !stopped; second++) {
      // Reading the counters takes a moment: keep to the wall clock's seconds.
      await new Promise(resolve => setTimeout(resolve, Math.max(0, t0 + second * 1000 - performance.now())))
      const now = await lanSentBytes(lan)
      const dt = (performance.now() - t) / 1000
      t = performance.now()
      const pct = now.map((b, i) => Math.round(100 * (b - (prev[i] as number)) * 8 / (RATE_MBIT * 1e6 * dt)))
      prev = now
      console.log(`  t=${String(second).padStart(3)} s  uplink use %: holder ${String(pct[0]).padStart(3)} | ${pct.slice(1).map(x => String(x).padStart(3)).join(' ')}`)
    }
  })()
  return { stop: () => { stopped = true } }
}

/** Runs `fn(i)` for every host at once; each one's finish time in seconds from the common start. */
async function race (n: number, fn: (i: number, t0: number) => Promise<void>): Promise<number[]> {
  const t0 = performance.now()
  return await Promise.all(Array.from({ length: n }, async (_, i) => { await fn(i, t0); return (performance.now() - t0) / 1000 }))
}

type MachineCpu = ReturnType<typeof machineCpu>
/** The whole machine's use between two readings, as % of all its cores. */
function machineUse (before: MachineCpu, after: MachineCpu, seconds: number): string {
  const m = (k: keyof MachineCpu): string => `${k} ${(100 * (after[k] - before[k]) / seconds).toFixed(0)}%`
  return `(of ${100 * availableParallelism()}%) ${m('user')}, ${m('system')}, ${m('softirq')}, ${m('idle')}`
}

const times = (ts: number[]): string => ts.map(t => t.toFixed(1)).join(' ')

/** A plain HTTP server in the holder's namespace; every host curls the blob into sha256sum at once. */
async function centralHttp (holder: NsDaemon, addr: string, hosts: NsDaemon[], blobFile: string, digest: string): Promise<number[]> {
  const serverJs = "const http=require('http'),fs=require('fs');const e=process.env;const size=fs.statSync(e.FILE).size;" +
    "http.createServer((q,s)=>{s.writeHead(200,{'content-length':size});fs.createReadStream(e.FILE,{highWaterMark:1<<20}).pipe(s)})" +
    ".listen(+e.PORT,e.ADDR,()=>console.log('ready'))"
  const server = nsSpawn(holder.ns, process.execPath, ['-e', serverJs], { ...process.env, FILE: blobFile, ADDR: addr, PORT: String(HTTP_PORT) })
  try {
    await new Promise(resolve => server.stdout?.once('data', resolve))
    return await race(hosts.length, async (i) => {
      const r = await nsRun(hosts[i]?.ns as string, 'sh', ['-c', `curl -sf http://${addr}:${HTTP_PORT}/blob | sha256sum`])
      if (`sha256:${r.stdout.split(' ')[0] ?? ''}` !== digest) throw new Error(`central HTTP gave ${hosts[i]?.name ?? ''} wrong bytes: ${r.stdout}`)
    })
  } finally {
    server.kill('SIGTERM')
  }
}

interface Counts { sent: number, received: number, bytesOut: number, bytesIn: number }

/**
 * Counters of each daemon from /metrics: gossip messages of the cluster topic sent and received,
 * blob bytes sent to peers, and blob bytes landed in verified chunks from peers; undefined where
 * /metrics did not answer.
 */
async function daemonCounts (daemons: NsDaemon[]): Promise<Array<Counts | undefined>> {
  return await Promise.all(daemons.map(async d => {
    const r = await nsRun(d.ns, 'curl', ['-sSf', '--max-time', '60', `${d.url}/metrics`])
    const count = (series: string): number | undefined => {
      const m = new RegExp(`^${series.replace(/[{}]/g, c => `\\${c}`)} (\\S+)`, 'm').exec(r.stdout)
      return m === null ? undefined : Number(m[1])
    }
    const sent = count('ollamad_gossip_messages_total{event="sent"}')
    const received = count('ollamad_gossip_messages_total{event="received"}')
    if (r.code !== 0 || sent === undefined || received === undefined) {
      console.error(`  (no counters from ${d.name}'s /metrics: ${r.stderr.trim() || r.stdout.slice(0, 200)})`)
      return undefined
    }
    return { sent, received, bytesOut: count('ollamad_transfer_sent_bytes_total') ?? 0, bytesIn: count('ollamad_transfer_received_bytes_total{source="peer"}') ?? 0 }
  }))
}

/** POST /api/pull on every host at once; a host is done when its pull says "success". */
async function swarmPull (hosts: NsDaemon[], model: string): Promise<{ done: number[], manifestAt: number[] }> {
  const manifestAt: number[] = []
  const done = await race(hosts.length, async (i, t0) => {
    const h = hosts[i] as NsDaemon
    const p = nsSpawn(h.ns, 'curl', ['-sSN', '--max-time', '900', '-X', 'POST', '--data-binary', JSON.stringify({ model }), `${h.url}/api/pull`])
    let last = ''
    p.stdout?.setEncoding('utf8').on('data', (text: string) => {
      // The first layer line means the manifest was resolved (from the cluster: the registry is out of reach).
      if (manifestAt[i] === undefined && text.includes('"digest"')) manifestAt[i] = (performance.now() - t0) / 1000
      last = (last + text).trim().split('\n').at(-1) ?? ''
    })
    await new Promise(resolve => p.once('close', resolve))
    if (!last.includes('"success"')) throw new Error(`${h.name}'s pull failed: ${last}\n${h.log().slice(-3000)}`)
  })
  return { done, manifestAt }
}

/** Longest a baseline race may take before the bench gives up on it. */
const raceTimeoutMs = (fu: number): number => Math.max(120_000, 30_000 * fu)

/** The floor race on `lan`, printed under `title`; its time in seconds. */
async function floorReport (lan: Lan, fu: number, title: string): Promise<number> {
  const { done, machine: [before, after] } = await floorRace({ namespaces: lan.hosts, addrs: lan.addrs, size: SIZE, timeoutMs: raceTimeoutMs(fu) })
  const f = Math.max(...done)
  console.log(`${title}: ${f.toFixed(2)} s = ${(f / fu).toFixed(2)}x F/u`)
  console.log(`  finish times (s): ${times(done)}`)
  console.log(`  whole machine during it: ${machineUse(before, after, f)}`)
  return f
}

async function floorAlone (fu: number): Promise<void> {
  const lan: Lan = createLan({ prefix: `ollb${process.pid}`, hosts: HOSTS + 1, rateMbit: RATE_MBIT })
  try {
    console.log(`dirty page cache written out first (sync): ${flushDirty().toFixed(0)} MiB`)
    await floorReport(lan, fu, 'floor alone (plain TCP, no daemons running)')
  } finally {
    lan.destroy()
  }
}

async function main (): Promise<void> {
  const why = netnsUnavailable()
  if (why !== undefined) { console.error(`bench:swarm: ${why}; run it as root on a machine with iproute2`); process.exit(1) }
  const fu = SIZE * 8 / (RATE_MBIT * 1e6)
  console.log(`model ${(SIZE / MiB).toFixed(0)} MiB, ${HOSTS} hosts + 1 holder, egress ${RATE_MBIT} Mbit/s each (tbf), F/u = ${fu.toFixed(2)} s`)
  console.log(`chunk size ${chunkSize(SIZE) / MiB} MiB (${chunkCount(SIZE)} chunks), requests in flight ${inflightLimits(chunkSize(SIZE))}`)

  if (FLOOR_ONLY) { await floorAlone(fu); return }
  const work = tempDir('bench-swarm')
  const blobPath = join(work, 'model.bin')
  // Seed the registry on loopback here, then serve the same storage from the holder's namespace only.
  const registry = await startRegistry()
  const { digest, manifestDigest } = await pushRandomModel(registry.url, 'library/bench', blobPath, SIZE)
  const warm = WARM_UP > 0 ? await pushRandomModel(registry.url, 'library/warm', join(work, 'warm.bin'), WARM_UP) : undefined
  await registry.stop()
  const model = `${registry.host}/library/bench:latest`

  const lan: Lan = createLan({ prefix: `ollb${process.pid}`, hosts: HOSTS + 1, rateMbit: RATE_MBIT })
  const daemons: NsDaemon[] = []
  const [holderNs, holderAddr] = [lan.hosts[0] as string, lan.addrs[0] as string]
  const regProc = nsSpawn(holderNs, '/usr/bin/docker-registry', ['serve', join(registry.dir, 'config.yml')])
  try {
    await waitFor(async () => (await nsRun(holderNs, 'curl', ['-sf', `${registry.url}/v2/`])).code === 0, 15_000, 'the registry in the holder namespace', { retryErrors: true })
    const key = join(work, 'swarm.key')
    writeFileSync(key, newSwarmKey(), { mode: 0o600 })
    // Default heartbeat and liveness times: a saturated uplink delays gossip by seconds (see the report).
    const common = ['--insecure-registry', registry.host, ...(process.env.BENCH_DAEMON_ARGS ?? '').split(' ').filter(a => a !== '')]
    const holder = await startNsDaemon({ ns: holderNs, addr: holderAddr, name: 'holder', swarmKey: key, mdns: false, args: common })
    daemons.push(holder)
    const hosts = await Promise.all(lan.hosts.slice(1).map(async (ns, i) => await startNsDaemon({
      ns, addr: lan.addrs[i + 1] as string, name: `host${i + 1}`, swarmKey: key, mdns: false, bootstrap: [holder.p2pAddr], args: common
    })))
    daemons.push(...hosts)
    await waitForMembers(daemons)
    const t = performance.now()
    const first = await nsJson(holderNs, `${holder.url}/api/pull`, { model, stream: false })
    if (first.status !== 'success') throw new Error(`the holder's pull failed: ${JSON.stringify(first)}`)
    console.log(`holder pulled ${model} from the registry in its namespace in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const coverage = async (d: NsDaemon, of = manifestDigest): Promise<Array<{ name: string, coverage: string, liveness: string }>> =>
      (await nsJson(d.ns, `${d.url}/api/cluster/models`)).models.find((m: { digest: string }) => `sha256:${m.digest}` === of)?.nodes ?? []
    const holderSeen = async (of = manifestDigest): Promise<void> => {
      for (const h of hosts) {
        await waitFor(async () => (await coverage(h, of)).some(n => n.name === 'holder' && n.coverage === 'complete' && n.liveness === 'alive'), 60_000, `${h.name} to see the holder alive with its copy`, { retryErrors: true })
      }
    }
    await holderSeen()

    const blobName = digest.replace(':', '-')
    // Each race starts with no other race's writes still to go to disk.
    const flushed: string[] = []
    const flush = (before: string): void => { flushed.push(`${flushDirty().toFixed(0)} MiB before ${before}`) }
    if (CENTRAL) {
      flush('central HTTP')
      const central = await centralHttp(holder, holderAddr, hosts, join(holder.modelsDir, 'blobs', blobName), digest)
      const c = Math.max(...central)
      console.log(`\ncentral HTTP (curl | sha256sum, all ${hosts.length} at once): ${c.toFixed(2)} s = ${(c / fu).toFixed(2)}x F/u (expected about ${hosts.length}x)`)
      console.log(`  finish times (s): ${times(central)}`)
      // The HTTP burst may have delayed the holder's heartbeats: start the swarm from a settled view.
      await holderSeen()
    }

    let aria: number | undefined
    if (BITTORRENT) {
      flush('aria2')
      const { done: bt, machine: [btBefore, btAfter] } = await bittorrentRace({ holderNs, holderAddr, hosts, file: join(holder.modelsDir, 'blobs', blobName), sha256: digest.slice(7), timeoutMs: raceTimeoutMs(fu) })
      aria = Math.max(...bt)
      console.log(`\nbittorrent (opentracker + aria2, 1 MiB pieces, all ${hosts.length} at once, verified): ${aria.toFixed(2)} s = ${(aria / fu).toFixed(2)}x F/u`)
      console.log(`  finish times (s): ${times(bt)}`)
      console.log(`  whole machine during it: ${machineUse(btBefore, btAfter, aria)}`)
      await holderSeen()
    }

    let floor: number | undefined
    if (FLOOR) {
      flush('the floor')
      floor = await floorReport(lan, fu, `\nfloor (plain TCP, each host's 1/${hosts.length} sent on to all at once, no hashing, no disk)`)
    }

    if (warm !== undefined) {
      const name = `${registry.host}/library/warm:latest`
      const first = await nsJson(holderNs, `${holder.url}/api/pull`, { model: name, stream: false })
      if (first.status !== 'success') throw new Error(`the holder's warm-up pull failed: ${JSON.stringify(first)}`)
      await holderSeen(warm.manifestDigest)
      const w = Math.max(...(await swarmPull(hosts, name)).done)
      console.log(`\nwarm-up: every host pulled a ${(WARM_UP / MiB).toFixed(0)} MiB model first, in ${w.toFixed(2)} s (not measured)`)
      await holderSeen()
    }
    flush('the swarm')
    const sentBefore = await egressBytes(lan.hosts)
    const cpuBefore = daemons.map(d => processCpu(d.proc.pid as number))
    const machineBefore = machineCpu()
    const gossipBefore = await daemonCounts(daemons)
    const timeline = TIMELINE ? sampleUplinks(lan) : undefined
    const { done, manifestAt } = await swarmPull(hosts, model).finally(() => timeline?.stop())
    const s = Math.max(...done)
    const machineAfter = machineCpu()
    const cpuAfter = daemons.map(d => processCpu(d.proc.pid as number))
    const user = cpuAfter.reduce((a, c, i) => a + c.user - (cpuBefore[i]?.user ?? 0), 0)
    const system = cpuAfter.reduce((a, c, i) => a + c.system - (cpuBefore[i]?.system ?? 0), 0)
    const cpu = cpuAfter.map((c, i) => c.user + c.system - (cpuBefore[i]?.user ?? 0) - (cpuBefore[i]?.system ?? 0))
    const gossipAfter = await daemonCounts(daemons)
    const sent = (await egressBytes(lan.hosts)).map((b, i) => (b - (sentBefore[i] as number)) / MiB)
    for (const h of hosts) {
      const sum = await fileSha256(join(h.modelsDir, 'blobs', blobName))
      if (sum !== digest) throw new Error(`${h.name} holds a wrong blob: ${sum}`)
    }
    const complete = (await coverage(holder)).filter(n => n.coverage === 'complete').length
    console.log(`\nswarm (POST /api/pull on all ${hosts.length} at once, verified): ${s.toFixed(2)} s = ${(s / fu).toFixed(2)}x F/u (target <= ${TARGET}x: ${s / fu <= TARGET ? 'met' : 'NOT met'})`)
    console.log(`  finish times (s): ${times(done)}; manifest resolved at (s): ${times(manifestAt)}`)
    if (aria !== undefined) console.log(`  against aria2 in the same run: ${(s / aria).toFixed(2)}x its time (target < 1: faster than BitTorrent)`)
    if (floor !== undefined) console.log(`  against the floor in the same run: ${(s / floor).toFixed(2)}x its time`)
    console.log(`  sha256 of every host's blob checked; the holder sees ${complete} of ${daemons.length} nodes complete`)
    console.log(`  egress during the pull (MiB): holder ${sent[0]?.toFixed(0) ?? '?'}, hosts ${sent.slice(1).map(x => x.toFixed(0)).join(' ')}`)
    console.log(`  daemon CPU during it: ${(100 * cpu.reduce((a, b) => a + b, 0) / s).toFixed(0)}% of one core in total (holder ${(100 * (cpu[0] ?? 0) / s).toFixed(0)}%; user ${(100 * user / s).toFixed(0)}%, system ${(100 * system / s).toFixed(0)}%)`)
    console.log(`  whole machine during it: ${machineUse(machineBefore, machineAfter, s)}`)
    const gossip = gossipAfter.flatMap((a, i) => { const b = gossipBefore[i]; return a === undefined || b === undefined ? [] : [{ told: a.sent - b.sent, heard: a.received - b.received, out: a.bytesOut - b.bytesOut, in: a.bytesIn - b.bytesIn }] })
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length
    if (gossip.length > 0) {
      const heard = mean(gossip.map(g => g.heard))
      console.log(`  gossip during it, per daemon (${gossip.length} of ${daemons.length} counted): ${mean(gossip.map(g => g.told)).toFixed(0)} messages published, ${heard.toFixed(0)} received (${(heard / s).toFixed(1)}/s)`)
      const out = gossip.reduce((a, g) => a + g.out, 0) / MiB
      const landed = gossip.reduce((a, g) => a + g.in, 0) / MiB
      console.log(`  blob bytes sent to peers: ${out.toFixed(0)} MiB; landed in verified chunks from peers: ${landed.toFixed(0)} MiB (${(100 * (out - landed) / Math.max(out, 1)).toFixed(0)}% of what was sent never landed)`)
    }
    console.log(`  peak RSS (VmHWM): holder ${rssMiB(holder.proc.pid as number).peak.toFixed(0)} MiB, hosts max ${Math.max(...hosts.map(h => rssMiB(h.proc.pid as number).peak)).toFixed(0)} MiB`)
    console.log(`  dirty page cache written out first (sync): ${flushed.join(', ')}`)
  } finally {
    if (LOG_DIR !== undefined) {
      mkdirSync(LOG_DIR, { recursive: true })
      for (const d of daemons) writeFileSync(join(LOG_DIR, `${d.name}.log`), d.log())
    }
    await Promise.all(daemons.map(async d => { await d.stop() }))
    regProc.kill('SIGTERM')
    await new Promise(resolve => { if (regProc.exitCode !== null) resolve(undefined); else regProc.once('exit', resolve) })
    lan.destroy()
    await registry.dispose()
    const left = run('ip', ['netns', 'list']).split('\n').filter(l => l.startsWith(`ollb${process.pid}-`))
    if (left.length > 0) console.error(`namespaces left behind: ${left.join(', ')}`)
  }
}

await main()
