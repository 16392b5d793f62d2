import type { Clock } from './util/clock.js'
import type { Logger } from './util/logger.js'
import { createChunkMapStore, type Store } from './store/index.js'
import { BLOB_PROTOCOL, createBlobClient, createBlobProtocolHandler, createLocalBlobs, type Puller, type SwarmAccess } from './transfer/index.js'
import { createGpuReader, type OllamaUpstream } from './inference/index.js'
import { createP2pNode, loadOrCreateOwnSwarmKey, loadOrCreatePeerKey, readSwarmKey, startKeeper, type P2pNode } from './p2p/index.js'
import { GOSSIP_TOPIC, createClusterState, createHlc, createIntentStore, startClusterService, type ClusterService, type ClusterState, type Hlc, type IntentStore } from './cluster/index.js'
import { createFactsSource, type FactsComponents, type PolicyFacts } from './node-facts.js'
import type { PrivateKey } from '@libp2p/interface'
import { createSwarmAccess } from './swarm-access.js'
import { createRateLimiter } from './util/rate-limit.js'
import { peerIdFromString } from '@libp2p/peer-id'
import type { DaemonConfig } from './daemon.js'
import type { SwarmStats } from './api/context.js'

export interface Swarm {
  node: P2pNode
  state: ClusterState
  service: ClusterService
  access: SwarmAccess
  intents: IntentStore
  hlc: Hlc
  privateKey: PrivateKey
  /** Adds the policy's part (keep claims, jobs, limits) to this node's record. */
  setPolicyFacts: (f: () => PolicyFacts) => void
  /** Re-reads GPUs and loaded models now and publishes the record (after a load or unload). */
  refreshFacts: () => void
  stats: () => SwarmStats
  stop: () => Promise<void>
}

export interface SwarmComponents {
  clock: Clock
  log: Logger
  store: Store
  puller: Puller
  upstream: OllamaUpstream
  apiUrl: () => string
}

/** Starts this node's libp2p peer, its share of the cluster state, and the keeper that holds the swarm together. */
export async function startSwarm (cfg: DaemonConfig, c: SwarmComponents): Promise<Swarm> {
  const privateKey = await loadOrCreatePeerKey(cfg.dataDir)
  const swarmKey = cfg.openSwarm === true ? undefined : cfg.swarmKeyFile !== undefined ? await readSwarmKey(cfg.swarmKeyFile) : await loadOrCreateOwnSwarmKey(cfg.dataDir)
  const node = await createP2pNode({ privateKey, swarmKey, listen: cfg.listen, bootstrap: cfg.bootstrap, mdns: cfg.mdns })
  const state = createClusterState(c.clock, { selfId: node.peerId.toString(), suspectAfterMs: cfg.suspectAfterMs, goneAfterMs: cfg.goneAfterMs })
  let publishSoon = (): void => {}
  const maps = createChunkMapStore(c.store.db, () => { publishSoon() })
  await maps.load()
  await node.handle(BLOB_PROTOCOL, createBlobProtocolHandler({
    local: createLocalBlobs({ store: c.store, puller: c.puller, maps }),
    clock: c.clock,
    limiter: createRateLimiter(c.clock, cfg.maxUploadRate),
    log: c.log
  }), { maxInboundStreams: 64 })
  const client = createBlobClient({ clock: c.clock, dial: async (peer, protocol, signal) => await node.dialProtocol(peerIdFromString(peer), protocol, { signal }) })
  const access = createSwarmAccess(state, client, maps)
  const hlc = createHlc(() => Date.now())
  const intents = createIntentStore({ selfId: node.peerId.toString(), privateKey, hlc, db: c.store.db, log: c.log })
  await intents.load()
  const factsComponents: FactsComponents = { node, store: c.store, puller: c.puller, upstream: c.upstream, gpus: createGpuReader(), name: cfg.name, apiUrl: c.apiUrl, maps }
  factsComponents.onEstimate = () => { service.publishSoon() }
  const facts = createFactsSource(factsComponents)
  const service = await startClusterService({ node, privateKey, state, clock: c.clock, log: c.log, facts, intents }, { heartbeatMs: cfg.heartbeatMs })
  publishSoon = service.publishSoon
  const keeper = startKeeper(node, c.clock, c.log, {
    bootstrap: cfg.bootstrap,
    known: () => state.members().filter(m => !m.self && m.liveness !== 'gone').map(m => ({ peerId: m.peerId, addrs: m.record.addrs }))
  })
  const offMembers = state.onChange(m => { if (!m.self && node.getConnections(peerIdFromString(m.peerId)).length === 0) keeper.kick() })
  return {
    node,
    state,
    service,
    access,
    intents,
    hlc,
    privateKey,
    setPolicyFacts: (f) => { factsComponents.policy = f },
    refreshFacts: () => { facts.invalidate(); service.publishSoon() },
    stats: () => ({
      connections: node.getConnections().length,
      gossipPeers: node.services.pubsub.getSubscribers(GOSSIP_TOPIC).length,
      intents: intents.entries().length,
      intentsDigest: Buffer.from(intents.digest()).toString('hex')
    }),
    stop: async () => {
      offMembers()
      keeper.stop()
      await service.stop()
      await node.stop()
    }
  }
}
