// npm run bench:transfer — a 1 GiB blob from one daemon to another over loopback, verified and in
// the store, against curl of the same file from a local HTTP server piped into sha256sum, in the
// same run. Measured twice: an open swarm (noise only) and with the swarm key on (pnet + noise),
// as ollamad runs by default, each in BENCH_ROUNDS (3) interleaved rounds, medians reported.
// Prints the times, the ratios, where the CPU went (user/system seconds of each daemon) and the
// receiver's peak RSS. BENCH_PROF=DIR writes V8 CPU profiles.
import '../src/polyfill.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createReadStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { startRegistry, type RunningRegistry } from '../test/fixtures/registry.js'
import { startCluster } from '../test/fixtures/cluster.js'
import { tempDir, type RunningDaemon } from '../test/fixtures/daemon.js'
import { median, pushRandomModel } from './bench-util.js'

const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * 1024 * 1024
const MIB = SIZE / 1024 / 1024
const PROF = process.env.BENCH_PROF
/** Rounds of (curl, peer pull) per mode, interleaved so both see the same machine; medians are reported. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))

interface ProcStat { user: number, sys: number, rssPeakMiB: number, rssMiB: number }

async function procStat (pid: number): Promise<ProcStat> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024
  return { user: Number(stat[11]) / 100, sys: Number(stat[12]) / 100, rssPeakMiB: kib('VmHWM'), rssMiB: kib('VmRSS') }
}

const cpu = (a: ProcStat, b: ProcStat): string => `${(b.user - a.user + b.sys - a.sys).toFixed(1)} s (user ${(b.user - a.user).toFixed(1)}, system ${(b.sys - a.sys).toFixed(1)})`

async function waitHolders (d: RunningDaemon, model: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    if (r.models.some(m => m.name === model && m.nodes.some(n => n.coverage === 'complete'))) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('the holder never showed up in the cluster view')
}

/** curl from a plain HTTP server on loopback into sha256sum; seconds. */
async function baseline (path: string, digest: string): Promise<number> {
  const server = http.createServer((_req, res) => { res.writeHead(200, { 'Content-Length': SIZE }); createReadStream(path).pipe(res) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const t = process.hrtime.bigint()
  // Async: the server runs in this process, so a blocking spawn would starve it.
  const base = await promisify(execFile)('bash', ['-c', `curl -sf http://127.0.0.1:${port}/blob | sha256sum`], { encoding: 'utf8' }).catch((e: { stdout?: string, stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }))
  const secs = Number(process.hrtime.bigint() - t) / 1e9
  server.close()
  if (!base.stdout.startsWith(digest.slice(7))) throw new Error(`baseline failed: ${base.stderr}`)
  return secs
}

/** Two fresh daemons; the first pulls from the registry, then the second pulls from it alone, timed, once per round (deleting its copy between rounds). */
async function measure (registry: RunningRegistry, model: string, blobPath: string, digest: string, open: boolean): Promise<void> {
  const nodeArgs = PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : undefined
  const { nodes } = await startCluster(2, () => ({ args: ['--insecure-registry', registry.host], nodeArgs }), open ? null : undefined)
  const [a, b] = nodes as [RunningDaemon, RunningDaemon]
  try {
    const pulled = await fetch(`${a.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    if (pulled.status !== 200) throw new Error(`holder pull failed: ${await pulled.text()}`)
    await waitHolders(b, model)
    console.log(`\n${open ? 'open swarm (noise + yamux)' : 'swarm key on (pnet + noise + yamux)'}, ${MIB} MiB over loopback, ${ROUNDS} round(s)`)
    const curls: number[] = []
    const pulls: number[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      const curlSecs = await baseline(blobPath, digest)
      const [a0, b0] = [await procStat(a.proc.pid as number), await procStat(b.proc.pid as number)]
      // The registry answers manifests only: every blob byte must come from the peer.
      const t = process.hrtime.bigint()
      const res = await fetch(`${b.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      const body = await res.text()
      const secs = Number(process.hrtime.bigint() - t) / 1e9
      if (res.status !== 200) throw new Error(`swarm pull failed: ${body}`)
      const [a1, b1] = [await procStat(a.proc.pid as number), await procStat(b.proc.pid as number)]
      curls.push(curlSecs)
      pulls.push(secs)
      console.log(`  round ${round}: curl | sha256sum ${curlSecs.toFixed(2)} s, ollamad ${secs.toFixed(2)} s (${(curlSecs / secs).toFixed(2)}x); CPU: sender ${cpu(a0, a1)}, receiver ${cpu(b0, b1)}; receiver RSS ${b1.rssMiB.toFixed(0)} MiB, peak ${b1.rssPeakMiB.toFixed(0)} MiB`)
      if (round < ROUNDS) {
        const del = await fetch(`${b.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model }) })
        if (del.status !== 200) throw new Error(`delete between rounds failed: ${await del.text()}`)
      }
    }
    const [c, o] = [median(curls), median(pulls)]
    console.log(`  curl | sha256sum:      ${c.toFixed(2)} s (${(MIB / c).toFixed(0)} MiB/s), median`)
    console.log(`  ollamad peer -> peer:  ${o.toFixed(2)} s (${(MIB / o).toFixed(0)} MiB/s), median; every byte hashed before publish`)
    console.log(`  ratio ollamad / (curl | sha256sum): ${(c / o).toFixed(2)}x of the medians (target >= 1.0); per round: ${curls.map((x, i) => (x / (pulls[i] as number)).toFixed(2)).join(', ')}`)
    console.log(`  receiver peak RSS over all rounds: ${(await procStat(b.proc.pid as number)).rssPeakMiB.toFixed(0)} MiB (target < 150); 2 cores`)
  } finally {
    for (const d of nodes) await d.kill(PROF !== undefined ? 'SIGTERM' : 'SIGKILL')
  }
}

async function main (): Promise<void> {
  const work = await tempDir('bench-transfer')
  const registry = await startRegistry()
  try {
    const blobPath = join(work, 'model.bin')
    const { digest } = await pushRandomModel(registry.url, 'library/bench', blobPath, SIZE)
    const model = `${registry.host}/library/bench:latest`
    await measure(registry, model, blobPath, digest, true)
    await measure(registry, model, blobPath, digest, false)
  } finally {
    await registry.dispose()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
