import { randomBytes } from 'node:crypto'
import { OllamadError } from './errors.js'
import { systemClock, type Clock } from './util/clock.js'
import { createLogger, type Logger } from './util/logger.js'
import { createRateLimiter } from './util/rate-limit.js'
import { createStore, type Store } from './store/index.js'
import { createRegistryClient } from './registry/index.js'
import { createPuller, createPusher, type Puller, type PullerComponents } from './transfer/index.js'
import { createOllamaUpstream } from './inference/index.js'
import { createApiServer } from './api/index.js'
import type { ClusterState } from './cluster/index.js'
import { startSwarm, type Swarm } from './swarm.js'
import { startPolicy } from './cluster-policy.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { INFER_PROTOCOL, createInferHandler } from './inference/infer-protocol.js'
import { createInferQueue } from './inference/queue.js'
import { createLocalServe } from './inference/serve.js'
import { throttle } from './util/throttle.js'

export interface DaemonConfig {
  /** Listen address of the HTTP API. */
  host: string
  port: number
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
  bootstrap: string[]
  mdns: boolean
  /** The cluster's swarm key file; without one the node makes its own and is a cluster of one. */
  swarmKeyFile?: string
  /** No pre-shared key at all (--open-swarm). */
  openSwarm?: boolean
  heartbeatMs?: number
  suspectAfterMs?: number
  goneAfterMs?: number
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

export const DEFAULT_GRACE_MS = 300_000

export interface Daemon {
  url: string
  peerId: string
  store: Store
  puller: Puller
  state: ClusterState
  stop: () => Promise<void>
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', '[::]', ''])

/** Refuses an upstream that is plainly our own listen address (the probe after listen catches the rest). */
function checkUpstreamNotSelf (cfg: DaemonConfig): void {
  let u: URL
  try { u = new URL(cfg.ollamaUrl) } catch { throw new OllamadError('INVALID_REQUEST', `invalid --ollama URL: ${cfg.ollamaUrl}`) }
  const port = Number(u.port !== '' ? u.port : u.protocol === 'https:' ? 443 : 80)
  if (port === cfg.port && LOCAL_HOSTS.has(u.hostname) && LOCAL_HOSTS.has(cfg.host)) {
    throw new OllamadError('UPSTREAM_IS_SELF', `the Ollama upstream ${u.origin} is this ollamad's own address; point --ollama at Ollama (default http://127.0.0.1:11434)`)
  }
}

export async function startDaemon (cfg: DaemonConfig, deps: { clock?: Clock, log?: Logger } = {}): Promise<Daemon> {
  const clock = deps.clock ?? systemClock
  const log = deps.log ?? createLogger('ollamad')
  checkUpstreamNotSelf(cfg)
  const instanceId = randomBytes(12).toString('hex')
  let store: Store
  try {
    store = await createStore({ clock }, { modelsDir: cfg.modelsDir, dataDir: cfg.dataDir, rescanIntervalMs: cfg.rescanIntervalMs })
  } catch (e) {
    if ((e as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN') {
      throw new OllamadError('CONFLICT', `the state directory ${cfg.dataDir} is in use by another ollamad`, { cause: e })
    }
    throw e
  }
  const registry = createRegistryClient({ clock }, { insecureRegistries: cfg.insecureRegistries })
  const limiter = createRateLimiter(clock, cfg.maxDownloadRate)
  let onActivity = (): void => {}
  // The swarm is added to these once it runs (it needs the puller for its own record).
  const pullerComponents: PullerComponents = { store, registry, clock, limiter, log, onActivity: () => { onActivity() } }
  const puller = createPuller(pullerComponents, { concurrency: cfg.concurrency, stallTimeoutMs: cfg.stallTimeoutMs })
  const pusher = createPusher({ store, registry, clock, limiter })
  const upstream = createOllamaUpstream({ url: cfg.ollamaUrl, instanceId })
  const stops: Array<() => Promise<void> | void> = [async () => { await store.close() }, async () => { await puller.close() }]
  const stop = async (): Promise<void> => { for (const s of stops.splice(0).reverse()) await s() }
  let url = ''
  let swarm: Swarm
  try {
    swarm = await startSwarm(cfg, { clock, log, store, puller, upstream, apiUrl: () => url })
  } catch (e) {
    await stop()
    throw e
  }
  stops.push(swarm.stop)
  pullerComponents.swarm = swarm.access
  const graceMs = cfg.graceMs ?? DEFAULT_GRACE_MS
  const policy = await startPolicy({ graceMs, maxCache: cfg.maxCache, minFreeDisk: cfg.minFreeDisk }, { swarm, store, puller, clock, log })
  stops.push(policy.stop)
  const serve = createLocalServe({ upstream, store, puller, queue: createInferQueue({ concurrency: cfg.parallel, maxWaiting: cfg.maxQueue }), name: cfg.name, log, onServed: throttle(clock, 1_000, swarm.refreshFacts), fetch: policy.pullHere })
  await swarm.node.handle(INFER_PROTOCOL, createInferHandler(serve, log), { maxInboundStreams: 256 })
  const inference = { serve, dial: async (peer: string, signal: AbortSignal) => await swarm.node.dialProtocol(peerIdFromString(peer), INFER_PROTOCOL, { signal }) }
  const api = createApiServer({ store, puller, pusher, upstream, log, instanceId, state: swarm.state, swarm: swarm.access, cluster: policy, inference, swarmStats: swarm.stats })
  let addr
  try {
    addr = await api.listen(cfg.host, cfg.port)
  } catch (e) {
    await stop()
    throw new OllamadError('CONFLICT', `cannot listen on ${cfg.host}:${cfg.port}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  stops.push(async () => { await api.close() })
  const probe = await upstream.probe()
  if (probe.kind === 'self') {
    await stop()
    throw new OllamadError('UPSTREAM_IS_SELF', `the Ollama upstream ${upstream.url.origin} answers as this ollamad; point --ollama at Ollama itself`)
  }
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  url = `http://${host}:${addr.port}`
  store.onChange(() => { swarm.service.publishSoon() })
  onActivity = () => { swarm.service.publishSoon() }
  swarm.service.publishSoon()
  log.info(`listening on ${url} (models ${cfg.modelsDir}, state ${cfg.dataDir}, Ollama upstream ${upstream.url.origin})`)
  log.info(`peer ${swarm.node.peerId.toString()} (${cfg.name}) on ${swarm.node.getMultiaddrs().map(a => a.toString()).join(' ')}${cfg.openSwarm === true ? '; open swarm: no swarm key, any peer that reaches this address may join' : cfg.swarmKeyFile === undefined ? '; own swarm key: a cluster of one until given the cluster key (--swarm-key)' : ''}`)
  const at = upstream.url.origin
  log.info(probe.kind === 'ollama'
    ? `Ollama ${probe.version} answers at ${at}`
    : probe.kind === 'ollamad'
      ? `the upstream at ${at} is another ollamad, not Ollama; --ollama should name this node's Ollama`
      : `Ollama does not answer at ${at}; inference routes answer 502 until it runs`)
  const resumed = await puller.resumeInterrupted()
  if (resumed > 0) log.info(`resuming ${resumed} interrupted pull(s)`)
  return { url, peerId: swarm.node.peerId.toString(), store, puller, state: swarm.state, stop }
}
