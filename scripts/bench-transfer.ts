// npm run bench:transfer — a 1 GiB blob from one daemon to another over loopback (swarm key on,
// as ollamad always runs), verified and in the store, against curl of the same file from a local
// HTTP server piped into sha256sum, in the same run. Prints both times, the ratio, where the
// CPU went (user/system seconds of each daemon) and the receiver's peak RSS.
import '../src/polyfill.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createReadStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { startRegistry, pushModel } from '../test/fixtures/registry.js'
import { startCluster } from '../test/fixtures/cluster.js'
import { tempDir, type RunningDaemon } from '../test/fixtures/daemon.js'
import { writeRandomFile } from './bench-util.js'

const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * 1024 * 1024

async function procStat (pid: number): Promise<{ cpu: number, rssPeakMiB: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  const ticks = Number(stat[11]) + Number(stat[12])
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return { cpu: ticks / 100, rssPeakMiB: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024 }
}

async function waitHolders (d: RunningDaemon, model: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    if (r.models.some(m => m.name === model && m.nodes.some(n => n.coverage === 'complete'))) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('the holder never showed up in the cluster view')
}

const step = (s: string): void => { if (process.env.BENCH_DEBUG !== undefined) process.stderr.write(`${new Date().toISOString()} ${s}\n`) }

async function main (): Promise<void> {
  const work = await tempDir('bench-transfer')
  const registry = await startRegistry()
  step('registry up')
  const { nodes } = await startCluster(2, () => ({ args: ['--insecure-registry', registry.host] }))
  const [a, b] = nodes as [RunningDaemon, RunningDaemon]
  try {
    const blobPath = join(work, 'model.bin')
    const digest = await writeRandomFile(blobPath, SIZE)
    const config = Buffer.from('{"model_format":"gguf","model_family":"llama","architecture":"amd64","os":"linux"}\n')
    await pushModel(registry.url, 'library/bench', 'latest', { config, layers: [{ mediaType: 'application/vnd.ollama.image.model', data: { path: blobPath, size: SIZE, digest } }] })
  step('pushed')
    const model = `${registry.host}/library/bench:latest`
    const pulled = await fetch(`${a.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    if (pulled.status !== 200) throw new Error(`holder pull failed: ${await pulled.text()}`)
  step('holder pulled')
    await waitHolders(b, model)
  step('holder seen')
    await registry.stop()

    // Baseline: a plain HTTP server on loopback, curl into sha256sum.
    const server = http.createServer((_req, res) => { res.writeHead(200, { 'Content-Length': SIZE }); createReadStream(join(a.modelsDir, 'blobs', digest.replace(':', '-'))).pipe(res) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    let t = process.hrtime.bigint()
    // Async: the server runs in this process, so a blocking spawn would starve it.
    const base = await promisify(execFile)('bash', ['-c', `curl -sf http://127.0.0.1:${port}/blob | sha256sum`], { encoding: 'utf8' }).catch((e: { stdout?: string, stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }))
    const curlSecs = Number(process.hrtime.bigint() - t) / 1e9
    server.close()
    if (!base.stdout.startsWith(digest.slice(7))) throw new Error(`baseline failed: ${base.stderr}`)

  step('baseline done')
    const cpuA = await procStat(a.proc.pid as number)
    const cpuB = await procStat(b.proc.pid as number)
    t = process.hrtime.bigint()
    const res = await fetch(`${b.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
    const body = await res.text()
    const swarmSecs = Number(process.hrtime.bigint() - t) / 1e9
    if (res.status !== 200) throw new Error(`swarm pull failed: ${body}`)
    const endA = await procStat(a.proc.pid as number)
    const endB = await procStat(b.proc.pid as number)
    const mib = SIZE / 1024 / 1024
    console.log(`blob: ${mib} MiB over loopback, swarm key on (pnet + noise + yamux)`)
    console.log(`curl | sha256sum:        ${curlSecs.toFixed(2)} s (${(mib / curlSecs).toFixed(0)} MiB/s)`)
    console.log(`ollamad peer -> peer:    ${swarmSecs.toFixed(2)} s (${(mib / swarmSecs).toFixed(0)} MiB/s), every byte hashed before publish`)
    console.log(`speed ratio ollamad / (curl | sha256sum): ${(curlSecs / swarmSecs).toFixed(2)}x (target >= 1.0)`)
    console.log(`CPU seconds: sender ${(endA.cpu - cpuA.cpu).toFixed(1)}, receiver ${(endB.cpu - cpuB.cpu).toFixed(1)} (2 cores)`)
    console.log(`receiver peak RSS: ${endB.rssPeakMiB.toFixed(0)} MiB (target < 150)`)
  } finally {
    for (const d of nodes) await d.kill('SIGKILL')
    await registry.dispose()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
