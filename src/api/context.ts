import type { Store, ModelName } from '../store/index.js'
import { nameKey, parseModelName } from '../store/index.js'
import type { Puller, Pusher, SwarmAccess } from '../transfer/index.js'
import type { GenerateJobs, InferClient, LocalServe, OllamaUpstream } from '../inference/index.js'
import type { Logger } from '../util/logger.js'
import type { ClusterState } from '../cluster/index.js'
import type { ClusterControl } from '../policy/index.js'
import type { Metrics } from '../metrics/index.js'
import { OllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'

export interface ApiComponents {
  store: Store
  puller: Puller
  pusher: Pusher
  upstream: OllamaUpstream
  log: Logger
  state: ClusterState
  swarm: SwarmAccess
  /** Sent as X-Ollamad-Instance so a request that loops back to us is recognised. */
  instanceId: string
  /** Intents and the policy, for the cluster routes that change what the cluster should hold. */
  cluster: ClusterControl
  /** Inference routing: this node's own serving, and streams to the others. */
  inference: InferenceAccess
  /** How this node is tied into the swarm, for `/api/cluster/state`. */
  swarmStats: () => SwarmStats
  /** Served at /metrics; told of every request answered. */
  metrics: Metrics
  /** Paces the dashboard's live view. */
  clock: Clock
}

export interface SwarmStats {
  /** Open libp2p connections, and peers this node's gossip reaches (subscribed to the topic). */
  connections: number
  gossipPeers: number
  /** Intents held, and their digest as records carry it: equal digests, equal sets. */
  intents: number
  intentsDigest: string
}

export interface InferenceAccess {
  serve: LocalServe
  /** Requests to other nodes. */
  client: InferClient
  /** Async generate jobs taken by this node. */
  jobs: GenerateJobs
}

/**
 * Parses a client's name and, like Ollama, matches it without case against the models on disk,
 * so `Llama3` finds `llama3`. Returns the spelling on disk when one matches.
 */
export function resolveName (store: Store, raw: string, invalid: () => OllamadError = () => new OllamadError('INVALID_NAME', 'invalid model name')): ModelName {
  let name: ModelName
  try { name = parseModelName(raw) } catch { throw invalid() }
  const key = nameKey(name)
  return store.list().find(e => nameKey(e.name) === key)?.name ?? name
}
