// npm run bench:swarm [-- --size MiB --rate Mbit --hosts N] — one holder and 8 hosts, each in a
// network namespace on a private bridge (10.77.0.0/24, no route out), each host's egress shaped
// to 100 Mbit/s with tc. The holder pulls a model (128 MiB of random bytes) from a docker-registry
// that runs inside the holder's namespace, on its loopback; then, in one run:
//   central: the holder serves the blob with a plain HTTP server and all hosts curl it at once;
//   swarm:   all hosts POST /api/pull at once and get it from the holder and from each other.
// Prints each time divided by F/u (model size over one uplink's rate, the swarm's lower bound).
// Targets: swarm <= 1.3x F/u; central needs about N x F/u. Needs root; namespaces go at exit.
import '../src/polyfill.js'
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream, readFileSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { newSwarmKey } from '../src/p2p/index.js'
import { chunkCount, chunkSize } from '../src/transfer/chunks.js'
import { startRegistry, pushModel } from '../test/fixtures/registry.js'
import { createLan, cpuSeconds, netnsUnavailable, nsJson, nsRun, nsSpawn, rssMiB, run, startNsDaemon, tempDir, waitFor, type Lan, type NsDaemon } from './netns.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const MiB = 1024 * 1024
const SIZE = Math.round(arg('--size', 128) * MiB)
const RATE_MBIT = arg('--rate', 100)
const HOSTS = arg('--hosts', 8)
const TARGET = 1.3
const HTTP_PORT = 8080
const LIVENESS = ['--heartbeat', '1000', '--suspect-after', '5000', '--gone-after', '15000']
const BLOB_MEDIA = 'application/vnd.ollama.image.model'

/** Random bytes (AES-CTR keystream) to a file; returns the sha256 digest. */
async function writeRandomFile (path: string, size: number): Promise<string> {
  const fh = await open(path, 'w')
  const hash = createHash('sha256')
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(`swarm-${size}`).digest(), Buffer.alloc(16))
  const zero = Buffer.alloc(8 * MiB)
  for (let done = 0; done < size; done += zero.byteLength) {
    const chunk = cipher.update(zero.subarray(0, Math.min(zero.byteLength, size - done)))
    hash.update(chunk)
    await fh.write(chunk)
  }
  await fh.close()
  return `sha256:${hash.digest('hex')}`
}

const fileSha256 = async (path: string): Promise<string> => await new Promise((resolve, reject) => {
  const h = createHash('sha256')
  createReadStream(path).on('error', reject).on('data', b => h.update(b)).on('end', () => { resolve(`sha256:${h.digest('hex')}`) })
})

/** The downloader's in-flight limits, read from its compiled source so the report follows the code. */
function inflightLimits (chunk: number): string {
  const src = readFileSync(new URL('../src/transfer/swarm-download.js', import.meta.url), 'utf8')
  const perPeer = /inflightPerPeer \?\? (\d+)/.exec(src)?.[1] ?? '?'
  const bytes = /DEFAULT_INFLIGHT_BYTES = ([\d *]+);/.exec(src)?.[1]?.split('*').reduce((a, b) => a * Number(b), 1)
  return `${perPeer} per peer, at most ${bytes !== undefined ? Math.max(1, Math.floor(bytes / chunk)) : '?'} per download`
}

/** Bytes each namespace has sent on eth0 so far (tc's counter on the shaped qdisc). */
async function egressBytes (ns: string): Promise<number> {
  const r = await nsRun(ns, 'tc', ['-s', 'qdisc', 'show', 'dev', 'eth0'])
  return Number(/Sent (\d+) bytes/.exec(r.stdout)?.[1] ?? NaN)
}

/** Runs `fn(i)` for every host at once; each one's finish time in seconds from the common start. */
async function race (n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const t0 = performance.now()
  return await Promise.all(Array.from({ length: n }, async (_, i) => { await fn(i); return (performance.now() - t0) / 1000 }))
}

const times = (ts: number[]): string => ts.map(t => t.toFixed(1)).join(' ')

async function main (): Promise<void> {
  const why = netnsUnavailable()
  if (why !== undefined) { console.error(`bench:swarm: ${why}; run it as root on a machine with iproute2`); process.exit(1) }
  const fu = SIZE * 8 / (RATE_MBIT * 1e6)
  console.log(`model ${(SIZE / MiB).toFixed(0)} MiB, ${HOSTS} hosts + 1 holder, egress ${RATE_MBIT} Mbit/s each (tbf), F/u = ${fu.toFixed(2)} s`)
  console.log(`chunk size ${chunkSize(SIZE) / MiB} MiB (${chunkCount(SIZE)} chunks), requests in flight ${inflightLimits(chunkSize(SIZE))}`)

  const work = tempDir('bench-swarm')
  const blobPath = join(work, 'model.bin')
  const digest = await writeRandomFile(blobPath, SIZE)
  // Seed the registry on loopback here, then serve the same storage from the holder's namespace only.
  const registry = await startRegistry()
  const config = Buffer.from('{"model_format":"gguf","model_family":"llama","architecture":"amd64","os":"linux"}\n')
  const pushed = await pushModel(registry.url, 'library/bench', 'latest', { config, layers: [{ mediaType: BLOB_MEDIA, data: { path: blobPath, size: SIZE, digest } }] })
  await registry.stop()
  const model = `${registry.host}/library/bench:latest`

  const lan: Lan = createLan({ prefix: `ollb${process.pid}`, hosts: HOSTS + 1, rateMbit: RATE_MBIT })
  const daemons: NsDaemon[] = []
  const holderNs = lan.hosts[0] as string
  const holderAddr = lan.addrs[0] as string
  const regProc = nsSpawn(holderNs, '/usr/bin/docker-registry', ['serve', join(registry.dir, 'config.yml')])
  try {
    await waitFor(async () => (await nsRun(holderNs, 'curl', ['-sf', `${registry.url}/v2/`])).code === 0, 15_000, 'the registry in the holder namespace')
    const key = join(work, 'swarm.key')
    writeFileSync(key, newSwarmKey(), { mode: 0o600 })
    const common = ['--insecure-registry', registry.host, ...LIVENESS]
    const holder = await startNsDaemon({ ns: holderNs, addr: holderAddr, name: 'holder', swarmKey: key, mdns: false, args: common })
    daemons.push(holder)
    const hosts = await Promise.all(lan.hosts.slice(1).map(async (ns, i) => await startNsDaemon({
      ns, addr: lan.addrs[i + 1] as string, name: `host${i + 1}`, swarmKey: key, mdns: false, bootstrap: [holder.p2pAddr], args: common
    })))
    daemons.push(...hosts)
    for (const d of daemons) {
      await waitFor(async () => (await nsJson(d.ns, `${d.url}/api/cluster/nodes`)).nodes.filter((n: { liveness: string }) => n.liveness === 'alive').length === daemons.length, 60_000, `${d.name} to see every node`)
    }
    let t = performance.now()
    const first = await nsJson(holderNs, `${holder.url}/api/pull`, { model, stream: false })
    if (first.status !== 'success') throw new Error(`the holder's pull failed: ${JSON.stringify(first)}`)
    console.log(`holder pulled ${model} from the registry in its namespace in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const coverage = async (d: NsDaemon): Promise<Array<{ name: string, coverage: string }>> =>
      (await nsJson(d.ns, `${d.url}/api/cluster/models`)).models.find((m: { digest: string }) => `sha256:${m.digest}` === pushed.digest)?.nodes ?? []
    for (const h of hosts) await waitFor(async () => (await coverage(h)).some(n => n.name === 'holder' && n.coverage === 'complete'), 30_000, `${h.name} to see the holder's copy`)

    // Central: one HTTP server in the holder's namespace, every host fetching the whole blob at once.
    const blobFile = join(holder.modelsDir, 'blobs', digest.replace(':', '-'))
    const serverJs = "const http=require('http'),fs=require('fs');const e=process.env;const size=fs.statSync(e.FILE).size;" +
      "http.createServer((q,s)=>{s.writeHead(200,{'content-length':size});fs.createReadStream(e.FILE,{highWaterMark:1<<20}).pipe(s)})" +
      ".listen(+e.PORT,e.ADDR,()=>console.log('ready'))"
    const server = nsSpawn(holderNs, process.execPath, ['-e', serverJs], { ...process.env, FILE: blobFile, ADDR: holderAddr, PORT: String(HTTP_PORT) })
    await new Promise(resolve => server.stdout?.once('data', resolve))
    const url = `http://${holderAddr}:${HTTP_PORT}/blob`
    const centralSums: string[] = []
    const central = await race(hosts.length, async (i) => {
      const r = await nsRun(hosts[i]?.ns as string, 'sh', ['-c', `curl -sf ${url} | sha256sum`])
      centralSums[i] = r.stdout.split(' ')[0] as string
    })
    server.kill('SIGTERM')
    if (centralSums.some(s => `sha256:${s}` !== digest)) throw new Error(`central HTTP gave wrong bytes: ${centralSums.join(' ')}`)

    // Swarm: every host pulls at once; a host is done when its pull answers "success".
    const sentBefore = await Promise.all(lan.hosts.map(egressBytes))
    const cpuBefore = daemons.map(d => cpuSeconds(d.proc.pid as number))
    t = performance.now()
    const swarm = await race(hosts.length, async (i) => {
      const h = hosts[i] as NsDaemon
      const r = await nsRun(h.ns, 'curl', ['-sSN', '--max-time', '900', '-X', 'POST', '--data-binary', JSON.stringify({ model }), `${h.url}/api/pull`])
      const last = r.stdout.trim().split('\n').at(-1) ?? ''
      if (!last.includes('"success"')) throw new Error(`${h.name}'s pull failed: ${last} ${r.stderr}\n${h.log().slice(-3000)}`)
    })
    const wall = (performance.now() - t) / 1000
    const cpu = daemons.map((d, i) => cpuSeconds(d.proc.pid as number) - (cpuBefore[i] as number))
    const sent = (await Promise.all(lan.hosts.map(egressBytes))).map((b, i) => (b - (sentBefore[i] as number)) / MiB)
    for (const h of hosts) {
      const sum = await fileSha256(join(h.modelsDir, 'blobs', digest.replace(':', '-')))
      if (sum !== digest) throw new Error(`${h.name} holds a wrong blob: ${sum}`)
    }
    const complete = (await coverage(holder)).filter(n => n.coverage === 'complete').length
    const viaRegistry = hosts.filter(h => /registry gave no manifest/.test(h.log())).length

    const c = Math.max(...central)
    const s = Math.max(...swarm)
    console.log(`\ncentral HTTP (curl | sha256sum, all ${hosts.length} at once): ${c.toFixed(2)} s = ${(c / fu).toFixed(2)}x F/u (expected about ${hosts.length}x)`)
    console.log(`  finish times (s): ${times(central)}`)
    console.log(`swarm (POST /api/pull on all ${hosts.length} at once, verified): ${s.toFixed(2)} s = ${(s / fu).toFixed(2)}x F/u (target <= ${TARGET}x: ${s / fu <= TARGET ? 'met' : 'NOT met'})`)
    console.log(`  finish times (s): ${times(swarm)}`)
    console.log(`  sha256 of every host's blob checked; holder's view: ${complete} of ${daemons.length} nodes complete; manifest from the cluster on ${viaRegistry} hosts`)
    console.log(`  egress during the swarm pull (MiB): holder ${sent[0]?.toFixed(0)}, hosts ${sent.slice(1).map(x => x.toFixed(0)).join(' ')}`)
    console.log(`  daemon CPU during it: ${(cpu.reduce((a, b) => a + b, 0) / wall * 100).toFixed(0)}% of one core in total (holder ${(cpu[0] as number / wall * 100).toFixed(0)}%)`)
    console.log(`  peak RSS (VmHWM): holder ${rssMiB(holder.proc.pid as number).peak.toFixed(0)} MiB, hosts max ${Math.max(...hosts.map(h => rssMiB(h.proc.pid as number).peak)).toFixed(0)} MiB`)
  } finally {
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
