import { homedir, hostname } from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_LISTEN } from '../p2p/index.js'
import { join, resolve } from 'node:path'
import { parseSize } from '../util/rate-limit.js'
import { parseDurationMs } from '../util/duration.js'
import { DEFAULT_OPEN_LOOPBACK, DEFAULT_OPEN_NETWORK, NEVER_OPEN_ON_NETWORK, TOKEN_FILE_NAME, defaultDataDir, isLoopbackHost, parseAccessList, parseOrigins, type Access } from '../api/index.js'

export const DEFAULT_API_HOST = '127.0.0.1'
export const DEFAULT_API_PORT = 11435
export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434'

/** Parses `HOST[:PORT]`, `:PORT` or `[v6]:PORT`, the forms OLLAMA_HOST takes. */
export function parseHostPort (s: string, defaultPort = DEFAULT_API_PORT): { host: string, port: number } {
  const rest = s.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '')
  let host = rest
  let portText: string | undefined
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest)
  if (v6 !== null) {
    host = v6[1] as string
    portText = v6[2]
  } else if (rest.split(':').length === 2) {
    // One colon separates host and port; several without brackets are a bare IPv6 address.
    [host, portText] = rest.split(':') as [string, string]
  }
  if (portText !== undefined && !/^\d{1,5}$/.test(portText)) throw new Error(`invalid address ${JSON.stringify(s)}: bad port`)
  const port = portText !== undefined ? Number(portText) : defaultPort
  if (host === '') host = DEFAULT_API_HOST
  if (port > 65535) throw new Error(`invalid address ${JSON.stringify(s)}: bad port`)
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw new Error(`invalid address ${JSON.stringify(s)}`)
  return { host, port }
}

/** What `ollamad start` runs with: flags over defaults, checked. The daemon hands each part its slice. */
export interface DaemonConfig {
  /** Listen address of the HTTP API. */
  host: string
  port: number
  /** Route classes callable without the token. */
  open: Access[]
  /** Where the API token is kept (made on first start when missing). */
  tokenFile: string
  /** Browser origins allowed on top of Ollama's defaults. */
  origins: string[]
  modelsDir: string
  dataDir: string
  /** The local Ollama. */
  ollamaUrl: string
  insecureRegistries: string[]
  /** Bytes per second downloaded (registry and peers); undefined is unlimited. */
  maxDownloadRate?: number
  /** Bytes per second served to peers; undefined is unlimited. */
  maxUploadRate?: number
  /** Parallel Range requests per blob. */
  concurrency?: number
  stallTimeoutMs?: number
  rescanIntervalMs?: number
  /** Human name of the node in the cluster. */
  name: string
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** Where the data plane listens (chunk bytes over TLS); undefined sends them over libp2p. */
  data?: { host: string, port: number }
  bootstrap: string[]
  mdns: boolean
  /** The cluster's swarm key file; without one the node makes its own and is a cluster of one. */
  swarmKeyFile?: string
  /** No pre-shared key at all (--open-swarm). */
  openSwarm?: boolean
  heartbeatMs?: number
  suspectAfterMs?: number
  goneAfterMs?: number
  /** How long a gone node's record is kept. @default 72 h */
  forgetAfterMs?: number
  /** How long a silent node's copies keep counting, and a withdrawn keep claim waits. @default 300000 */
  graceMs?: number
  /** Bytes of models this node may hold. */
  maxCache?: number
  minFreeDisk?: { bytes: number } | { percent: number }
  /** Inference requests sent to the local Ollama at once. @default 4 */
  parallel?: number
  /** Inference requests that may wait for a slot; more get 503. @default 64 */
  maxQueue?: number
}

export interface StartFlags {
  host?: string
  open?: string
  tokenFile?: string
  origins?: string
  models?: string
  data?: string
  ollama?: string
  insecureRegistry?: string[]
  maxDownloadRate?: string
  maxUploadRate?: string
  concurrency?: string
  name?: string
  listen?: string[]
  dataPort?: string
  dataPlane?: boolean
  bootstrap?: string[]
  mdns?: boolean
  swarmKey?: string
  openSwarm?: boolean
  heartbeat?: string
  suspectAfter?: string
  goneAfter?: string
  forgetAfter?: string
  grace?: string
  maxCache?: string
  minFreeDisk?: string
  parallel?: string
  maxQueue?: string
}

const ms = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = parseDurationMs(v)
  if (n === undefined || n < 10 || n > 86_400_000) throw new Error(`${flag} takes a duration from 10ms to 24h, such as 3s, 5m or 1h30m (a bare number is milliseconds)`)
  return n
}

/** Flags over defaults. The upstream never comes from OLLAMA_HOST: clients point that at us. */
export function daemonConfig (flags: StartFlags, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const { host, port } = parseHostPort(flags.host ?? `${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`)
  // An empty OLLAMA_MODELS means unset, as in Ollama (resolving '' would be the current folder).
  const models = flags.models ?? (env.OLLAMA_MODELS !== undefined && env.OLLAMA_MODELS !== '' ? env.OLLAMA_MODELS : join(homedir(), '.ollama', 'models'))
  const concurrency = flags.concurrency !== undefined ? Number(flags.concurrency) : undefined
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) throw new Error('--concurrency must be a whole number from 1 to 64')
  const rate = flags.maxDownloadRate !== undefined ? parseSize(flags.maxDownloadRate) : undefined
  if (rate !== undefined && rate <= 0) throw new Error('--max-download-rate must be above zero')
  const upRate = flags.maxUploadRate !== undefined ? parseSize(flags.maxUploadRate) : undefined
  if (upRate !== undefined && upRate <= 0) throw new Error('--max-upload-rate must be above zero')
  const ollamaUrl = flags.ollama ?? DEFAULT_OLLAMA_URL
  if (flags.openSwarm === true && flags.swarmKey !== undefined) throw new Error('--open-swarm and --swarm-key exclude each other')
  checkMultiaddrs('--listen', flags.listen ?? [])
  checkMultiaddrs('--bootstrap', flags.bootstrap ?? [])
  const listen = flags.listen !== undefined && flags.listen.length > 0 ? flags.listen : [DEFAULT_LISTEN]
  const dataDir = resolve(flags.data ?? defaultDataDir(env))
  return {
    host,
    port,
    open: openRoutes(host, flags.open),
    tokenFile: resolve(flags.tokenFile ?? join(dataDir, TOKEN_FILE_NAME)),
    origins: [...parseOrigins(env.OLLAMA_ORIGINS), ...parseOrigins(flags.origins)],
    modelsDir: resolve(models),
    dataDir,
    ollamaUrl: /^https?:\/\//.test(ollamaUrl) ? ollamaUrl : `http://${ollamaUrl}`,
    insecureRegistries: flags.insecureRegistry ?? [],
    maxDownloadRate: rate,
    maxUploadRate: upRate,
    concurrency,
    name: nodeName(flags.name ?? hostname()),
    listen,
    data: flags.dataPlane === false ? undefined : dataListen(listen[0] as string, flags.dataPort),
    bootstrap: flags.bootstrap ?? [],
    mdns: flags.mdns !== false,
    swarmKeyFile: flags.swarmKey !== undefined ? resolve(flags.swarmKey) : undefined,
    openSwarm: flags.openSwarm === true,
    heartbeatMs: ms('--heartbeat', flags.heartbeat),
    suspectAfterMs: ms('--suspect-after', flags.suspectAfter),
    goneAfterMs: ms('--gone-after', flags.goneAfter),
    forgetAfterMs: ms('--forget-after', flags.forgetAfter),
    graceMs: ms('--grace', flags.grace),
    maxCache: flags.maxCache !== undefined ? positiveSize('--max-cache', flags.maxCache) : undefined,
    minFreeDisk: flags.minFreeDisk !== undefined ? freeDisk(flags.minFreeDisk) : undefined,
    parallel: count('--parallel', flags.parallel, 256),
    maxQueue: count('--max-queue', flags.maxQueue, 100_000)
  }
}

/**
 * What the API opens without the token: on loopback what Ollama opens to local processes, on an
 * address the network reaches only reads and inference. Opening writes there is refused: anyone
 * who reaches the port could delete models or change every node.
 */
function openRoutes (host: string, flag: string | undefined): Access[] {
  const loopback = isLoopbackHost(host)
  const open = flag !== undefined ? parseAccessList(flag) : [...(loopback ? DEFAULT_OPEN_LOOPBACK : DEFAULT_OPEN_NETWORK)]
  const unsafe = open.filter(a => NEVER_OPEN_ON_NETWORK.includes(a))
  if (!loopback && unsafe.length > 0) {
    throw new Error(`refusing to open ${unsafe.join(' and ')} routes without the token on ${host}, which the network reaches: drop them from --open (clients then send the token: $OLLAMAD_TOKEN or --token), or listen on 127.0.0.1`)
  }
  return open
}

/** The data plane listens on the swarm's first address, one port up (or any port when the swarm's is 0). */
function dataListen (swarm: string, portFlag: string | undefined): { host: string, port: number } {
  const parts = multiaddr(swarm).getComponents()
  const host = parts.find(p => p.name === 'ip4' || p.name === 'ip6')?.value ?? '0.0.0.0'
  if (portFlag !== undefined) {
    if (!/^\d{1,5}$/.test(portFlag) || Number(portFlag) > 65535) throw new Error('--data-port takes a port number (0 for any free port)')
    return { host, port: Number(portFlag) }
  }
  const swarmPort = Number(parts.find(p => p.name === 'tcp')?.value ?? 0)
  return { host, port: swarmPort === 0 || swarmPort === 65535 ? 0 : swarmPort + 1 }
}

const count = (flag: string, v: string | undefined, max: number): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} takes a whole number from 1 to ${max}`)
  return n
}

const positiveSize = (flag: string, v: string): number => {
  let n: number
  try { n = parseSize(v) } catch { throw new Error(`${flag} takes a size such as 500G or 2TiB`) }
  if (n <= 0) throw new Error(`${flag} must be above zero`)
  return n
}

/** --min-free-disk: a size, or a percentage of the disk. */
function freeDisk (v: string): { bytes: number } | { percent: number } {
  const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v)
  if (pct !== null) {
    const percent = Number(pct[1])
    if (percent <= 0 || percent >= 100) throw new Error('--min-free-disk takes a percentage above 0 and under 100')
    return { percent }
  }
  return { bytes: positiveSize('--min-free-disk', v) }
}

/** Node names are shown in tables and accepted by commands: short, printable, no spaces. */
export function nodeName (s: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s)) throw new Error(`invalid node name ${JSON.stringify(s)}: use letters, digits, '.', '_' and '-' (up to 63)`)
  return s
}

/** Checks multiaddr flags up front, so a typo is one clear line rather than a libp2p stack. */
export function checkMultiaddrs (flag: string, list: string[]): void {
  for (const a of list) {
    try { multiaddr(a) } catch { throw new Error(`${flag}: invalid multiaddr ${JSON.stringify(a)}`) }
  }
}
