import { randomBytes } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DaemonConfig } from '../cli/index.js'
import { OllamadError } from '../errors.js'
import { createApiServer, loadOrCreateToken, type ApiServer } from '../api/index.js'
import { createMetrics } from '../metrics/index.js'
import { GOSSIP_TOPIC, addNodeSection, createClusterService, createClusterState, createHlc, createIntentStore, createRecordSections, type ClusterState } from '../cluster/index.js'
import {
  INFER_PROTOCOL, MAX_DATA_INFER_REQUEST, addInferenceSection, createGenerateJobs, createGpuReader, createInferClient, createInferDataHandler, createInferHandler, createInferQueue, createInferService, createLocalServe,
  createOllamaUpstream, createVramEstimates, type OllamaUpstream
} from '../inference/index.js'
import {
  DATA_ALPN_INFER, createDataIdentity, createDataPlane, type DataIdentity, createKeeper, createP2pNode, libp2pMembers, loadOrCreateOwnSwarmKey, loadOrCreatePeerKey, readSwarmKey,
  type DataPlane, type P2pNode
} from '../p2p/index.js'
import { createPolicy } from '../policy/index.js'
import { createRegistryClient } from '../registry/index.js'
import { createChunkMapStore, createStore, type Store } from '../store/index.js'
import {
  BLOB_PROTOCOL, MAX_REQUEST_BYTES, addHoldingsSection, createBans, createBlobClient, createBlobProtocolHandler, createLocalBlobs, createPuller, createPusher,
  createSwarmAccess, type Puller
} from '../transfer/index.js'
import type { Clock } from '../util/clock.js'
import type { Startable } from '../util/lifecycle.js'
import type { ComponentLogger } from '../util/logger.js'
import { countingLimiter, createRateLimiter } from '../util/rate-limit.js'
import { throttle } from '../util/throttle.js'

/** Every part of a daemon, built and wired but not started. */
export interface Built {
  store: Store
  puller: Puller
  node: P2pNode
  state: ClusterState
  upstream: OllamaUpstream
  api: ApiServer
  data?: DataPlane
  /** The parts with a life, in the order they start (they stop in reverse). */
  lifecycle: Startable[]
}

/** Opens the store: its database may be held by another ollamad on the same data dir. */
async function openStore (cfg: DaemonConfig, clock: Clock): Promise<Store> {
  try {
    return await createStore({ clock }, { modelsDir: cfg.modelsDir, dataDir: cfg.dataDir, rescanIntervalMs: cfg.rescanIntervalMs })
  } catch (e) {
    if ((e as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN') {
      throw new OllamadError('CONFLICT', `the state directory ${cfg.dataDir} is in use by another ollamad`, { cause: e })
    }
    throw e
  }
}

/** The swarm's identity and key: kept in the data dir, or the cluster's key file, or none for an open swarm. */
async function openSwarm (cfg: DaemonConfig): Promise<{ node: P2pNode, privateKey: PrivateKey }> {
  const privateKey = await loadOrCreatePeerKey(cfg.dataDir)
  const swarmKey = cfg.openSwarm === true ? undefined : cfg.swarmKeyFile !== undefined ? await readSwarmKey(cfg.swarmKeyFile) : await loadOrCreateOwnSwarmKey(cfg.dataDir)
  const node = await createP2pNode({ privateKey, swarmKey, listen: cfg.listen, bootstrap: cfg.bootstrap, mdns: cfg.mdns, start: false })
  return { node, privateKey }
}

/**
 * Builds every part of the daemon with the slice of the configuration it needs, bottom up: the
 * store, the swarm and the cluster, transfer, inference, policy, and the HTTP API. Nothing runs
 * yet; each concern adds its own section to the node record.
 */
export async function buildDaemon (cfg: DaemonConfig, clock: Clock, logger: ComponentLogger): Promise<Built> {
  const store = await openStore(cfg, clock)
  let node: P2pNode | undefined
  try {
    const swarm = await openSwarm(cfg)
    node = swarm.node
    const dataIdentity = cfg.data === undefined ? undefined : await createDataIdentity(swarm.privateKey)
    // Made before anything listens: the CLI finds it in the data dir from the first start on.
    const token = await loadOrCreateToken(cfg.tokenFile)
    return wire(cfg, clock, logger, { store, node: swarm.node, privateKey: swarm.privateKey, dataIdentity, token })
  } catch (e) {
    await node?.stop()
    await store.close()
    throw e
  }
}

/** What had to be opened or read from disk before the parts could be wired. */
interface Opened { store: Store, node: P2pNode, privateKey: PrivateKey, dataIdentity: DataIdentity | undefined, token: string }

function wire (cfg: DaemonConfig, clock: Clock, logger: ComponentLogger, { store, node, privateKey, dataIdentity, token }: Opened): Built {
  const selfId = node.peerId.toString()
  const instanceId = randomBytes(12).toString('hex')
  // A stream on the open connection when there is one: every chunk request opens a stream, and
  // going through the dialer each time updated the peer store for nothing.
  const dial = async (peer: string, protocol: string, signal: AbortSignal): Promise<Awaited<ReturnType<P2pNode['dialProtocol']>>> => {
    const open = node.getConnections(peerIdFromString(peer)).find(c => c.status === 'open')
    return open !== undefined ? await open.newStream(protocol, { signal }) : await node.dialProtocol(peerIdFromString(peer), protocol, { signal })
  }

  const sections = createRecordSections()
  const state = createClusterState(clock, { selfId, suspectAfterMs: cfg.suspectAfterMs, goneAfterMs: cfg.goneAfterMs, forgetAfterMs: cfg.forgetAfterMs })
  const clusterLog = logger.forComponent('cluster')
  const intents = createIntentStore({ selfId, privateKey, hlc: createHlc(() => clock.now()), db: store.db, log: clusterLog, isMember: (p) => state.member(p) !== undefined })
  const service = createClusterService({ node, privateKey, state, clock, log: clusterLog, intents, sections }, { heartbeatMs: cfg.heartbeatMs })
  // A peer that tells its data port in its record takes blob requests there.
  const data = cfg.data === undefined || dataIdentity === undefined
    ? undefined
    : createDataPlane({ identity: dataIdentity, members: libp2pMembers(node), clock, portOf: (p) => state.member(p)?.record.dataPort, log: logger.forComponent('p2p:data') }, cfg.data)
  const keeper = createKeeper({ node, clock, log: logger.forComponent('p2p') }, {
    bootstrap: cfg.bootstrap,
    known: () => state.members().filter(m => !m.self && m.liveness !== 'gone').map(m => ({ peerId: m.peerId, addrs: m.record.addrs })),
    onMember: (l) => state.onChange(m => { if (!m.self) l(m.peerId) })
  })

  const queue = createInferQueue({ concurrency: cfg.parallel, maxWaiting: cfg.maxQueue })
  const metrics = createMetrics({ state, intents, queue: queue.stats, gossip: service.gossip })
  const transferLog = logger.forComponent('transfer')
  const registry = createRegistryClient({ clock }, { insecureRegistries: cfg.insecureRegistries })
  const downloads = createRateLimiter(clock, cfg.maxDownloadRate)
  const maps = createChunkMapStore(store.db)
  const access = createSwarmAccess({ state, client: createBlobClient({ clock, dial, data }), maps, bans: createBans(clock, metrics.banned), clock })
  const puller = createPuller({ store, registry, clock, limiter: downloads, log: transferLog, swarm: access, onChunkLanded: metrics.chunkIn, onChunkRejected: metrics.chunkRejected }, { concurrency: cfg.concurrency, stallTimeoutMs: cfg.stallTimeoutMs, minFreeDisk: cfg.minFreeDisk })
  const pusher = createPusher({ store, registry, clock, limiter: downloads })
  const blobs = createBlobProtocolHandler({ local: createLocalBlobs({ store, puller, maps }), clock, limiter: countingLimiter(createRateLimiter(clock, cfg.maxUploadRate), metrics.bytesOut), log: logger.forComponent('transfer:serve'), data, onRequest: metrics.blobRequest, holders: access.chunkHolders })
  // Cumulative, like Prometheus counters: each record carries them, and readers take rates from two records.
  sections.add('transfer', () => { const t = metrics.totals(); return { transfer: { fromPeers: BigInt(t.fromPeers), fromRegistry: BigInt(t.fromRegistry), toPeers: BigInt(t.toPeers) } } })
  addHoldingsSection({ sections, store, puller, maps, vramEstimate: createVramEstimates({ store, onEstimate: sections.changed }) })

  const inferLog = logger.forComponent('inference')
  const upstream = createOllamaUpstream({ url: cfg.ollamaUrl, instanceId })
  const inference = addInferenceSection({ sections, gpus: createGpuReader(clock), upstream, clock })
  const policy = createPolicy({ selfId, state, intents, publishIntents: service.publishIntents, sections, store, puller, clock, log: logger.forComponent('policy') }, { graceMs: cfg.graceMs, maxCache: cfg.maxCache, minFreeDisk: cfg.minFreeDisk })
  const serve = createLocalServe({ upstream, store, puller, queue, name: cfg.name, log: inferLog, onServed: throttle(clock, 1_000, inference.refresh), fetch: policy.pullHere })

  const api = createApiServer({
    store, puller, pusher, upstream, state, instanceId, swarm: access, cluster: policy, log: logger.forComponent('api'),
    metrics,
    clock,
    inference: { serve, client: createInferClient({ dial: async (peer, signal) => await dial(peer, INFER_PROTOCOL, signal), data, clock }), jobs: createGenerateJobs(clock) },
    swarmStats: () => ({
      connections: node.getConnections().length,
      gossipPeers: node.services.pubsub.getSubscribers(GOSSIP_TOPIC).length,
      intents: intents.entries().length,
      intentsDigest: Buffer.from(intents.digest()).toString('hex')
    })
  }, { access: { open: new Set(cfg.open), token }, origins: cfg.origins })
  addNodeSection({ sections, node, clock, apiUrl: api.url, dataPort: () => data?.port() ?? 0 }, { name: cfg.name, diskPath: store.layout.root })

  const p2p: Startable = {
    start: async () => {
      await node.handle(BLOB_PROTOCOL, blobs, { maxInboundStreams: 64 })
      if (data !== undefined) {
        try {
          await data.start()
        } catch (e) {
          throw new OllamadError('CONFLICT', `cannot listen for data on ${cfg.data?.host}:${cfg.data?.port}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (see --data-port)`)
        }
        data.handle(blobs.onData, MAX_REQUEST_BYTES)
        // A member that leaves takes its data connections with it.
        node.addEventListener('peer:disconnect', (e) => { data.dropPeer(e.detail.toString()) })
      }
      await node.start()
    },
    stop: async () => { await node.stop(); await data?.stop() }
  }
  // Requests routed here may fetch a model as a cluster job: only once the policy runs.
  const inferHandler: Startable = {
    start: async () => {
      // One service behind both ways in, so the limits on peers' requests count them all.
      const service = createInferService(serve, inferLog)
      await node.handle(INFER_PROTOCOL, createInferHandler(service, inferLog, () => { metrics.inferRequest('stream') }), { maxInboundStreams: 256 })
      data?.handle(createInferDataHandler(service, { clock, onRequest: () => { metrics.inferRequest('data') } }), MAX_DATA_INFER_REQUEST, DATA_ALPN_INFER)
    },
    stop: async () => { await node.unhandle(INFER_PROTOCOL); data?.unhandle(DATA_ALPN_INFER) }
  }
  const listen: Startable = {
    start: async () => {
      try {
        await api.listen(cfg.host, cfg.port)
      } catch (e) {
        throw new OllamadError('CONFLICT', `cannot listen on ${cfg.host}:${cfg.port}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
      }
      // The record now carries the API's address.
      sections.changed()
    },
    stop: async () => { await api.close() }
  }
  const lifecycle: Startable[] = [
    { start: () => {}, stop: async () => { await store.close() } },
    { start: () => {}, stop: async () => { await puller.close() } },
    { start: async () => { await maps.load(); await intents.load() }, stop: () => {} },
    p2p,
    service,
    keeper,
    policy,
    inferHandler,
    listen
  ]
  return { store, puller, node, state, upstream, api, data, lifecycle }
}
