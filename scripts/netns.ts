// Private LANs for benchmarks and tests: network namespaces joined by a bridge that lives in a
// namespace of its own, veth pairs, tc shaping, and processes (ollamad among them) run inside a
// namespace. No namespace gets a default route, so nothing sent inside can leave the machine.
import { DAEMON_NODE_FLAGS } from '../src/daemon/node-flags.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../test/fixtures/wait-for.js'

/** The compiled CLI. */
export const CLI = fileURLToPath(new URL('../src/daemon/main.js', import.meta.url))
/** Inside its own namespace every daemon can use the default ports. */
export const API_PORT = 11435
export const P2P_PORT = 11436

export interface Lan {
  /** The namespace holding the bridge. */
  bridge: string
  /** Host namespaces; hosts[i] has address addrs[i] on its interface eth0. */
  hosts: string[]
  addrs: string[]
  /** Deletes every namespace (their veths go with them); safe to call twice. */
  destroy: () => void
}

export interface LanInit {
  /** Namespace name prefix, unique per run (e.g. with the pid). */
  prefix: string
  hosts: number
  /** The first three octets of a private /24. @default '10.77.0' */
  subnet?: string
  /** Egress rate of each host's eth0, in Mbit/s; unshaped when absent. */
  rateMbit?: number
}

/** Runs `ip` (or another tool) to completion and throws with its stderr on failure. */
export function run (cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr ?? '').trim() || String(r.error ?? r.status)}`)
  return r.stdout
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable (): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  const probe = `ollamad-probe-${process.pid}`
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (r.error !== undefined || r.status !== 0) return `ip netns is unavailable: ${(r.stderr ?? '').trim() || String(r.error)}`
  spawnSync('ip', ['netns', 'del', probe])
  return undefined
}

const lans = new Set<Lan>()
const children = new Set<ChildProcess>()
const dirs = new Set<string>()
let hooked = false

/** On exit (normal, error or signal): kill what we started, delete namespaces and temp dirs. */
export function hookExit (): void {
  if (hooked) return
  hooked = true
  process.once('exit', () => {
    for (const p of children) p.kill('SIGKILL')
    for (const l of lans) l.destroy()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  // Without these a signal ends the process without the 'exit' event.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => { process.exit(130) })
}

/** A temp directory removed at exit. */
export function tempDir (label: string): string {
  hookExit()
  const d = mkdtempSync(join(tmpdir(), `ollamad-${label}-`))
  dirs.add(d)
  return d
}

/**
 * Makes `hosts` namespaces, each with eth0 on a veth whose other end is a port of br0 in the
 * bridge namespace, addresses subnet.1.. in a /24, link-local multicast routed out of eth0 (mdns),
 * and eth0's egress shaped with tbf when `rateMbit` is given.
 */
export function createLan (init: LanInit): Lan {
  hookExit()
  const subnet = init.subnet ?? '10.77.0'
  const bridge = `${init.prefix}-br`
  const hosts = Array.from({ length: init.hosts }, (_, i) => `${init.prefix}-h${i}`)
  const addrs = hosts.map((_, i) => `${subnet}.${i + 1}`)
  const made: string[] = []
  const lan: Lan = {
    bridge,
    hosts,
    addrs,
    destroy: () => {
      for (const ns of made.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns])
      lans.delete(lan)
    }
  }
  lans.add(lan)
  try {
    for (const ns of [bridge, ...hosts]) { run('ip', ['netns', 'add', ns]); made.push(ns) }
    run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
    run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up'])
    hosts.forEach((ns, i) => {
      // Made from inside the host namespace, so no interface ever appears in the root namespace.
      run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridge])
      run('ip', ['-n', bridge, 'link', 'set', `p${i}`, 'master', 'br0', 'up'])
      run('ip', ['-n', ns, 'addr', 'add', `${addrs[i] as string}/24`, 'dev', 'eth0'])
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
      run('ip', ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
      if (init.rateMbit !== undefined) shape(ns, 'eth0', init.rateMbit)
    })
  } catch (e) {
    lan.destroy()
    throw e
  }
  return lan
}

/** Token bucket on an interface's egress: `mbit` sustained, a small burst, at most 50 ms of queue. */
export function shape (ns: string, dev: string, mbit: number): void {
  const burst = Math.max(32 * 1024, Math.ceil(mbit * 1e6 / 8 / 250)) // at least one tick at HZ=250
  run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '50ms'])
}

/** Spawns a command inside a namespace (`ip netns exec` execs it, so the pid is the command's). */
export function nsSpawn (ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  hookExit()
  const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  children.add(p)
  p.once('exit', () => children.delete(p))
  return p
}

/** Runs a command inside a namespace to completion. */
export async function nsRun (ns: string, cmd: string, args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  const p = nsSpawn(ns, cmd, args)
  let stdout = ''
  let stderr = ''
  p.stdout?.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  p.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  // 'close', not 'exit': output may still be in the pipes when the process has exited.
  const code = await new Promise<number>(resolve => p.once('close', c => { resolve(c ?? -1) }))
  return { code, stdout, stderr }
}

/** GET or POST JSON inside a namespace with curl (with a bearer token if given); throws on a transport error or a non-2xx. */
export async function nsJson<T = any> (ns: string, url: string, body?: unknown, token?: string): Promise<T> {
  const post = body === undefined ? [] : ['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body)]
  const auth = token === undefined ? [] : ['-H', `Authorization: Bearer ${token}`]
  const r = await nsRun(ns, 'curl', ['-sS', '--fail-with-body', '--max-time', '60', ...post, ...auth, url])
  if (r.code !== 0) throw new Error(`curl ${url} in ${ns}: ${r.stderr.trim()} ${r.stdout.slice(0, 500)}`)
  return JSON.parse(r.stdout) as T
}

/**
 * Bytes each host of `lan` has sent so far, read as what its bridge port received: one `ip` call
 * for all hosts, cheap enough to sample every second without taking CPU from the run.
 */
export async function lanSentBytes (lan: Lan): Promise<number[]> {
  const r = await nsRun(lan.bridge, 'ip', ['-s', '-j', 'link', 'show'])
  const links = JSON.parse(r.stdout) as Array<{ ifname: string, stats64?: { rx?: { bytes?: number } } }>
  return lan.hosts.map((_, i) => {
    const b = links.find(l => l.ifname === `p${i}`)?.stats64?.rx?.bytes
    if (b === undefined) throw new Error(`no counters for port p${i} in ${lan.bridge}: ${r.stderr}`)
    return b
  })
}

/** Bytes each namespace has sent on eth0 so far (tc's counter on its qdisc: on the wire, with headers). */
export async function egressBytes (namespaces: string[]): Promise<number[]> {
  const out: number[] = []
  for (const ns of namespaces) {
    const r = await nsRun(ns, 'tc', ['-s', 'qdisc', 'show', 'dev', 'eth0'])
    const m = /Sent (\d+) bytes/.exec(r.stdout)
    if (m === null) throw new Error(`no tc counters in ${ns}: ${r.stdout} ${r.stderr}`)
    out.push(Number(m[1]))
  }
  return out
}

/** Waits until every daemon sees all of them alive. */
export async function waitForMembers (daemons: NsDaemon[]): Promise<void> {
  for (const d of daemons) {
    await waitFor(async () => (await nsJson(d.ns, `${d.url}/api/cluster/nodes`)).nodes.filter((n: { liveness: string }) => n.liveness === 'alive').length === daemons.length, 60_000, `${d.name} to see every node`, { retryErrors: true })
  }
}

export interface NsDaemon {
  ns: string
  name: string
  /** The HTTP API, reachable only inside `ns`. */
  url: string
  peerId: string
  /** /ip4/ADDR/tcp/PORT/p2p/ID, for --bootstrap. */
  p2pAddr: string
  modelsDir: string
  /** The API token it wrote (for the routes that change the cluster). */
  token: () => string
  proc: ChildProcess
  log: () => string
  stop: () => Promise<void>
}

export interface NsDaemonInit {
  ns: string
  addr: string
  name: string
  swarmKey: string
  mdns: boolean
  bootstrap?: string[]
  args?: string[]
}

/** Starts `ollamad start` inside a namespace (API on its loopback, swarm on `addr`) and waits until it listens. */
export async function startNsDaemon (o: NsDaemonInit): Promise<NsDaemon> {
  const modelsDir = tempDir(`${o.name}-models`)
  const dataDir = tempDir(`${o.name}-data`)
  // BENCH_PROF=DIR: a V8 CPU profile of every daemon, written when it stops.
  const prof = [...(process.env.BENCH_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')]
  const args = [...DAEMON_NODE_FLAGS, ...prof, CLI, 'start', '--host', `127.0.0.1:${API_PORT}`, '--models', modelsDir, '--data', dataDir,
    '--listen', `/ip4/${o.addr}/tcp/${P2P_PORT}`, '--swarm-key', o.swarmKey, '--name', o.name,
    '--ollama', 'http://127.0.0.1:9', ...(o.mdns ? [] : ['--no-mdns']),
    ...(o.bootstrap ?? []).flatMap(b => ['--bootstrap', b]), ...(o.args ?? [])]
  const env = { ...process.env }
  delete env.OLLAMA_HOST
  const proc = nsSpawn(o.ns, process.execPath, args, env)
  let out = ''
  proc.stdout?.setEncoding('utf8').on('data', (s: string) => { out += s })
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => { out += s })
  let exited = false
  const exit = new Promise<void>(resolve => proc.once('exit', () => { exited = true; resolve() }))
  const peerLine = /peer (\S+) \(\S+\) on (\S+)/
  try {
    await waitFor(() => exited || peerLine.test(out), 30_000, `${o.name} to listen`, { everyMs: 50 })
    if (exited) throw new Error('it exited')
  } catch (e) {
    proc.kill('SIGKILL')
    throw new Error(`ollamad ${o.name} in ${o.ns} did not start (${(e as Error).message}):\n${out}`)
  }
  const m = peerLine.exec(out) as RegExpExecArray
  const addrs = (out.slice(m.index).split('\n')[0] as string).split(' on ')[1]?.split(/[ ;]/) ?? []
  const p2pAddr = addrs.find(a => a.startsWith(`/ip4/${o.addr}/`)) ?? (m[2] as string)
  return {
    ns: o.ns,
    name: o.name,
    url: `http://127.0.0.1:${API_PORT}`,
    peerId: m[1] as string,
    p2pAddr,
    modelsDir,
    token: () => readFileSync(join(dataDir, 'api-token'), 'utf8').trim(),
    proc,
    log: () => out,
    stop: async () => {
      if (exited) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => { proc.kill('SIGKILL') }, 5_000)
      await exit
      clearTimeout(t)
    }
  }
}

/** Resident and peak memory of a process in MiB, from /proc. */
export function rssMiB (pid: number): { rss: number, peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export function cpuSeconds (pid: number): number {
  const { user, system } = processCpu(pid)
  return user + system
}

/** A process's user and system CPU seconds so far. */
export function processCpu (pid: number): { user: number, system: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 } // clock ticks (USER_HZ = 100)
}

/** The whole machine's CPU seconds so far by kind (all cores), from /proc/stat. */
export function machineCpu (): { user: number, system: number, softirq: number, idle: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(x => Number(x) / 100)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f
  return { user: user + nice, system: system + irq + steal, softirq, idle: idle + iowait }
}

/**
 * Writes the page cache's dirty pages out and returns how many MiB were dirty. Setting up and
 * racing write files (the holder's pull, every host's copy): what is still dirty when the next
 * race starts the kernel writes back during it (after 30 s), on the same cores.
 */
export function flushDirty (): number {
  const dirtyKiB = Number(/^Dirty:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0)
  spawnSync('sync')
  return dirtyKiB / 1024
}

export const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN
}

/** CPU seconds the whole machine has been busy (all cores, from /proc/stat), to see other load. */
export function machineBusySeconds (): number {
  const { user, system, softirq } = machineCpu()
  return user + system + softirq
}
