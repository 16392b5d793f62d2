import type { DaemonConfig } from '../cli/index.js'
import { OllamadError } from '../errors.js'
import { refuseSelfUpstream } from '../inference/index.js'
import type { ClusterState } from '../cluster/index.js'
import type { Store } from '../store/index.js'
import type { Puller } from '../transfer/index.js'
import { systemClock, type Clock } from '../util/clock.js'
import { startInOrder } from '../util/lifecycle.js'
import { createComponentLogger, type ComponentLogger } from '../util/logger.js'
import { buildDaemon } from './build.js'

/** Partial downloads and uploads untouched this long are freed at start. */
const STALE_AFTER_MS = 3 * 24 * 3600 * 1000

export interface Daemon {
  url: string
  peerId: string
  store: Store
  puller: Puller
  state: ClusterState
  stop: () => Promise<void>
}

export interface DaemonDeps {
  clock?: Clock
  logger?: ComponentLogger
}

/**
 * The composition root: builds every part, starts them in order (the swarm, the cluster, the
 * policy, then the HTTP API), checks that the Ollama upstream is not this daemon, and resumes the
 * pulls a previous run left unfinished.
 */
export async function startDaemon (cfg: DaemonConfig, deps: DaemonDeps = {}): Promise<Daemon> {
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? createComponentLogger()
  const log = logger.forComponent('daemon')
  refuseSelfUpstream(cfg.ollamaUrl, { host: cfg.host, port: cfg.port })
  const d = await buildDaemon(cfg, clock, logger)
  const stop = await startInOrder(d.lifecycle)
  const probe = await d.upstream.probe()
  if (probe.kind === 'self') {
    await stop()
    throw new OllamadError('UPSTREAM_IS_SELF', `the Ollama upstream ${d.upstream.url.origin} answers as this ollamad; point --ollama at Ollama itself`)
  }
  const url = d.api.url()
  const peerId = d.node.peerId.toString()
  log.info(`listening on ${url} (models ${cfg.modelsDir}, state ${cfg.dataDir}, Ollama upstream ${d.upstream.url.origin})`)
  log.info(`open without a token: ${cfg.open.length > 0 ? cfg.open.join(', ') : 'nothing'}; everything else needs the token in ${cfg.tokenFile}`)
  log.info(`peer ${peerId} (${cfg.name}) on ${d.node.getMultiaddrs().map(a => a.toString()).join(' ')}${d.data !== undefined ? `; data plane on ${cfg.data?.host}:${d.data.port()}` : ''}${cfg.openSwarm === true ? '; open swarm: no swarm key, any peer that reaches this address may join' : cfg.swarmKeyFile === undefined ? '; own swarm key: a cluster of one until given the cluster key (--swarm-key)' : ''}`)
  const at = d.upstream.url.origin
  log.info(probe.kind === 'ollama'
    ? `Ollama ${probe.version} answers at ${at}`
    : probe.kind === 'ollamad'
      ? `the upstream at ${at} is another ollamad, not Ollama; --ollama should name this node's Ollama`
      : `Ollama does not answer at ${at}; inference routes answer 502 until it runs`)
  const resumed = await d.puller.resumeInterrupted()
  if (resumed > 0) log.info(`resuming ${resumed} interrupted pull(s)`)
  // While pulls resume they may need their partials: those wait for a start with none pending.
  const freed = await d.store.cleanStale({ maxAgeMs: STALE_AFTER_MS, keepPartials: resumed > 0 })
  if (freed.restored.length > 0) log.info(`put back ${freed.restored.join(', ')}: a verify had set them aside and did not finish; run ollamad verify again`)
  if (freed.files > 0) log.info(`freed ${(freed.bytes / 1024 / 1024).toFixed(1)} MiB of stale files: ${freed.partials} partial download(s), ${freed.uploads} upload(s), ${freed.temp} temp file(s)`)
  return { url, peerId, store: d.store, puller: d.puller, state: d.state, stop }
}
