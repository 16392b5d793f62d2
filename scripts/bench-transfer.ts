// npm run bench:transfer — a 1 GiB blob from one daemon to another over loopback, swarm key on,
// verified and in the store, against the same file served by nginx and fetched with
// `curl | tee FILE | openssl sha256`, in the same run. Two modes: chunk bytes over the data plane
// (TLS 1.3, the default) and over libp2p streams (--no-data-plane, pnet + noise + yamux), each
// BENCH_ROUNDS (3) rounds interleaved with the baseline, medians reported. Prints the times, the
// ratio, the CPU per GiB of both daemons against the baseline's (nginx + curl + tee + openssl),
// split by side and by user/system, and the receiver's peak RSS. BENCH_MODES=data or =libp2p runs
// one mode; BENCH_PROF=DIR writes V8 CPU profiles.
import '../src/polyfill.js'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, type RunningRegistry } from '../test/fixtures/registry.js'
import { startCluster } from '../test/fixtures/cluster.js'
import { tempDir, type RunningDaemon } from '../test/fixtures/daemon.js'
import { median, pushRandomModel, settleDisk } from './bench-util.js'
import { curlTeeOpenssl, startNginx, type Nginx } from './baseline.js'
import { processCpu, rssMiB } from './netns.js'

const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * 1024 * 1024
const MIB = SIZE / 1024 / 1024
const GIB = SIZE / 1024 ** 3
const PROF = process.env.BENCH_PROF
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const MODES = [
  { key: 'data', label: 'data plane (TLS 1.3 per peer pair)', args: [] as string[] },
  { key: 'libp2p', label: 'libp2p streams (pnet + noise + yamux, --no-data-plane)', args: ['--no-data-plane'] }
].filter(m => process.env.BENCH_MODES === undefined || process.env.BENCH_MODES.split(',').includes(m.key))

interface Cpu { user: number, system: number }
const total = (c: Cpu): number => c.user + c.system
const diff = (a: Cpu, b: Cpu): Cpu => ({ user: b.user - a.user, system: b.system - a.system })
const sum = (xs: Cpu[]): Cpu => xs.reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }), { user: 0, system: 0 })
const fmt = (c: Cpu): string => `${(total(c) / GIB).toFixed(2)} (user ${(c.user / GIB).toFixed(2)}, system ${(c.system / GIB).toFixed(2)})`

async function waitHolders (d: RunningDaemon, model: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    if (r.models.some(m => m.name === model && m.nodes.some(n => n.coverage === 'complete'))) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('the holder never showed up in the cluster view')
}

/** One baseline copy: seconds, and the CPU of nginx plus the pipeline. */
async function baseline (nginx: Nginx, url: string, out: string, hex: string): Promise<{ secs: number, cpu: Cpu }> {
  const pids = await nginx.pids()
  const n0 = sum(pids.map(processCpu))
  const r = await curlTeeOpenssl(url, out)
  const n1 = sum(pids.map(processCpu))
  if (r.hex !== hex) throw new Error(`baseline copy hashed to ${r.hex}, not ${hex}`)
  return { secs: r.secs, cpu: sum([diff(n0, n1), { user: r.user, system: r.sys }]) }
}

async function measure (registry: RunningRegistry, nginx: Nginx, url: string, work: string, model: string, hex: string, mode: typeof MODES[number]): Promise<void> {
  // BENCH_NODE_FLAGS: more node flags for both daemons (e.g. --perf-basic-prof for perf).
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')
  const nodeArgs = [...(PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : []), ...extra]
  const { nodes } = await startCluster(2, () => ({ args: ['--insecure-registry', registry.host, ...mode.args], nodeArgs }))
  const [a, b] = nodes as [RunningDaemon, RunningDaemon]
  try {
    const pulled = await fetch(`${a.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    if (pulled.status !== 200) throw new Error(`holder pull failed: ${await pulled.text()}`)
    await waitHolders(b, model)
    console.log(`\n${mode.label}: ${MIB} MiB over loopback, swarm key on, ${ROUNDS} round(s)`)
    const base: Array<{ secs: number, cpu: Cpu }> = []
    const ours: Array<{ secs: number, send: Cpu, recv: Cpu }> = []
    for (let round = 1; round <= ROUNDS; round++) {
      await settleDisk()
      const bl = await baseline(nginx, url, join(work, 'copy.bin'), hex)
      await settleDisk()
      const [a0, b0] = [processCpu(a.proc.pid as number), processCpu(b.proc.pid as number)]
      // The registry answers manifests only: every blob byte comes from the peer.
      const t = process.hrtime.bigint()
      const res = await fetch(`${b.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      const body = await res.text()
      const secs = Number(process.hrtime.bigint() - t) / 1e9
      if (res.status !== 200) throw new Error(`swarm pull failed: ${body}`)
      const [a1, b1] = [processCpu(a.proc.pid as number), processCpu(b.proc.pid as number)]
      base.push(bl)
      ours.push({ secs, send: diff(a0, a1), recv: diff(b0, b1) })
      console.log(`  round ${round}: baseline ${bl.secs.toFixed(2)} s, ollamad ${secs.toFixed(2)} s (${(bl.secs / secs).toFixed(2)}x); CPU-s/GiB: baseline ${(total(bl.cpu) / GIB).toFixed(2)}, ollamad sender ${(total(diff(a0, a1)) / GIB).toFixed(2)} + receiver ${(total(diff(b0, b1)) / GIB).toFixed(2)}`)
      if (round < ROUNDS) {
        const del = await fetch(`${b.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model }) })
        if (del.status !== 200) throw new Error(`delete between rounds failed: ${await del.text()}`)
      }
    }
    const [c, o] = [median(base.map(x => x.secs)), median(ours.map(x => x.secs))]
    const baseCpu = base.map(x => x.cpu).sort((x, y) => total(x) - total(y))[Math.floor(ROUNDS / 2)] as Cpu
    const mid = [...ours].sort((x, y) => total(sum([x.send, x.recv])) - total(sum([y.send, y.recv])))[Math.floor(ROUNDS / 2)] as typeof ours[number]
    console.log(`  nginx -> curl | tee | openssl sha256: ${c.toFixed(2)} s (${(MIB / c).toFixed(0)} MiB/s), median`)
    console.log(`  ollamad peer -> peer:                 ${o.toFixed(2)} s (${(MIB / o).toFixed(0)} MiB/s), median; every chunk and the whole blob hashed before publish`)
    console.log(`  speed ratio ollamad / baseline: ${(c / o).toFixed(2)}x of the medians (target >= 1.0); per round: ${base.map((x, i) => (x.secs / (ours[i]?.secs ?? NaN)).toFixed(2)).join(', ')}`)
    console.log(`  CPU-s per GiB (median round): baseline ${fmt(baseCpu)}; ollamad ${fmt(sum([mid.send, mid.recv]))} = sender ${fmt(mid.send)} + receiver ${fmt(mid.recv)}`)
    console.log(`  CPU ratio ollamad / baseline: ${(total(sum([mid.send, mid.recv])) / total(baseCpu)).toFixed(2)}x (target <= 2.0)`)
    console.log(`  receiver peak RSS over all rounds: ${rssMiB(b.proc.pid as number).peak.toFixed(0)} MiB (target < 150); 2 cores`)
  } finally {
    for (const d of nodes) await d.kill(PROF !== undefined ? 'SIGTERM' : 'SIGKILL')
  }
}

async function main (): Promise<void> {
  const work = await tempDir('bench-transfer')
  const registry = await startRegistry()
  let nginx: Nginx | undefined
  try {
    const blobPath = join(work, 'model.bin')
    const { digest } = await pushRandomModel(registry.url, 'library/bench', blobPath, SIZE)
    nginx = await startNginx(blobPath)
    const model = `${registry.host}/library/bench:latest`
    for (const mode of MODES) await measure(registry, nginx, `${nginx.url}/model.bin`, work, model, digest.slice(7), mode)
  } finally {
    await nginx?.stop()
    await registry.dispose()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
