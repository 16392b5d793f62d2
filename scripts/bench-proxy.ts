// npm run bench:proxy — the same streaming /api/generate against the Ollama stand-in directly,
// through the ollamad next to it (local), and through another ollamad that routes it one hop over
// the swarm, in one run. Prints p50/p95 request time and the added latency, and streaming
// throughput against direct. Targets: under 1 ms added at p50 locally, at least 95% of direct
// throughput. BENCH_REQUESTS (default 300) and BENCH_TOKENS (default 20000) change the load;
// BENCH_DAEMON_ARGS adds daemon flags (`--no-data-plane`: the hop over a libp2p stream instead).
import '../src/polyfill.js'
import { startRegistry, pushModel, makeTinyModel } from '../test/fixtures/registry.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startCluster, DEFAULT_LIVENESS } from '../test/fixtures/cluster.js'
import { tempDir, type RunningDaemon } from '../test/fixtures/daemon.js'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300)
const TOKENS = Number(process.env.BENCH_TOKENS ?? 20_000)

const quantile = (xs: number[], q: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number }

/** One streamed generate, read to the end; returns ms and bytes. */
async function once (base: string, model: string, prompt: string): Promise<{ ms: number, bytes: number }> {
  const t = performance.now()
  const res = await fetch(`${base}/api/generate`, { method: 'POST', body: JSON.stringify({ model, prompt }) })
  let bytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength
  if (res.status !== 200) throw new Error(`${base}: ${res.status}`)
  return { ms: performance.now() - t, bytes }
}

/** The stand-in in its own process, so that its CPU is not the measuring client's. */
async function standin (tokens: number): Promise<{ url: string, proc: ChildProcess }> {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('../test/fixtures/ollama-standin-main.js', import.meta.url)), String(tokens)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.once('data', (b: Buffer) => { resolve(b.toString().trim().split('\n')[0] as string) })
    proc.once('exit', () => { reject(new Error('the stand-in exited')) })
  })
  return { url, proc }
}

async function main (): Promise<void> {
  const registry = await startRegistry()
  const running: RunningDaemon[] = []
  const short = await standin(4)
  const long = await standin(TOKENS)
  try {
    await pushModel(registry.url, 'library/proxy', 'latest', makeTinyModel({ seed: 'proxy' }))
    const model = `${registry.host}/library/proxy:latest`
    const measure = async (upstream: string, label: string): Promise<void> => {
      const dirs = [await tempDir('models'), await tempDir('models')]
      // BENCH_PROF=DIR: V8 CPU profiles of both daemons, written when they stop.
      const nodeArgs = process.env.BENCH_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []
      const { nodes } = await startCluster(2, (i) => ({ modelsDir: dirs[i], ollama: i === 0 ? upstream : 'http://127.0.0.1:9', args: ['--insecure-registry', registry.host, ...DEFAULT_LIVENESS, ...(process.env.BENCH_DAEMON_ARGS ?? '').split(' ').filter(a => a !== '')], nodeArgs }))
      running.push(...nodes)
      const [local, hop] = nodes as [RunningDaemon, RunningDaemon]
      const pulled = await fetch(`${local.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      if (pulled.status !== 200) throw new Error(await pulled.text())
      for (;;) {
        const r = await (await fetch(`${hop.url}/api/cluster/nodes`)).json() as { nodes: Array<{ name: string, models: unknown[], ollama: string }> }
        if (r.nodes.some(n => n.name === 'node1' && n.models.length === 1 && n.ollama === 'up')) break
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      const targets: [[string, string], [string, string], [string, string]] = [['direct to the stand-in', upstream], ['through ollamad (local)', local.url], ['through ollamad (one hop)', hop.url]]
      if (label === 'latency') {
        const runs = new Map<string, number[]>(targets.map(([n]) => [n, []]))
        for (let i = 0; i < 20; i++) for (const [, base] of targets) await once(base, model, 'warm')
        // Interleaved, so machine noise hits all three alike.
        for (let i = 0; i < REQUESTS; i++) for (const [n, base] of targets) runs.get(n)?.push((await once(base, model, 'hi')).ms)
        const direct = quantile(runs.get(targets[0][0]) as number[], 0.5)
        console.log(`latency, ${REQUESTS} short streamed generates each (4 tokens):`)
        for (const [n] of targets) {
          const xs = runs.get(n) as number[]
          const p50 = quantile(xs, 0.5)
          console.log(`  ${n.padEnd(28)} p50 ${p50.toFixed(2)} ms, p95 ${quantile(xs, 0.95).toFixed(2)} ms${n === targets[0][0] ? '' : `, added at p50 ${(p50 - direct).toFixed(2)} ms`}`)
        }
        const added = quantile(runs.get(targets[1][0]) as number[], 0.5) - direct
        console.log(`  target: under 1 ms added at p50 locally: ${added < 1 ? 'met' : 'NOT met'} (${added.toFixed(2)} ms)`)
      } else {
        // Rounds interleave the three, and the median of each is reported, so drift hits all alike.
        const rates = new Map<string, number[]>(targets.map(([n]) => [n, []]))
        for (let i = 0; i < 9; i++) for (const [n, base] of targets) { const r = await once(base, model, 'long'); rates.get(n)?.push(r.bytes / r.ms * 1000) }
        console.log(`throughput, one stream of ${TOKENS} tokens, median of 9 interleaved rounds:`)
        const directRate = quantile(rates.get(targets[0][0]) as number[], 0.5)
        for (const [n] of targets) {
          const med = quantile(rates.get(n) as number[], 0.5)
          console.log(`  ${n.padEnd(28)} ${(med / 1e6).toFixed(1)} MB/s${n === targets[0][0] ? '' : ` (${(100 * med / directRate).toFixed(0)}% of direct)`}`)
        }
      }
      for (const d of nodes) await d.kill(process.env.BENCH_PROF !== undefined ? 'SIGTERM' : 'SIGKILL')
    }
    await measure(short.url, 'latency')
    await measure(long.url, 'throughput')
    console.log('  target: at least 95% of direct throughput')
  } finally {
    for (const d of running) await d.kill('SIGKILL').catch(() => {})
    short.proc.kill('SIGTERM')
    long.proc.kill('SIGTERM')
    await registry.dispose()
  }
}

await main()
