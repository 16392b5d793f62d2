import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ClusterState, IntentStore } from '../cluster/index.js'
import { modelKey } from '../store/index.js'

/** What the metrics read at scrape time: the cluster view, intents, and the inference queue. */
export interface MetricsComponents {
  state: ClusterState
  intents: IntentStore
  queue: () => { running: number, waiting: number }
  /** Gossip messages this node sent, received and dropped (counted by the cluster service). @default none */
  gossip?: { sent: number, received: number, dropped: number }
}

/** Blob bytes in and out since start, as the node record carries them. */
export interface TransferTotals { fromPeers: number, fromRegistry: number, toPeers: number }

export interface Metrics {
  registry: Registry
  /**
   * One HTTP request answered: its route pattern (never the raw path), method, status, the node
   * that served it (inference routes; '' for the others) and its duration.
   */
  observeRequest: (r: { route: string, method: string, status: number, node: string }, seconds: number) => void
  /** A request refused at the edge: a disallowed origin, a Host that is not this node, no or a wrong token. */
  refused: (reason: 'origin' | 'host' | 'token') => void
  /** A verified chunk landed here, from the registry or a peer. */
  chunkIn: (bytes: number, source: 'registry' | 'peer') => void
  /** Bytes sent to peers. */
  bytesOut: (n: number) => void
  /** A blob request from a peer was served: on a data connection, or on a libp2p stream. */
  blobRequest: (via: 'data' | 'stream') => void
  /** An inference request from a peer was taken: on a data connection, or on a libp2p stream. */
  inferRequest: (via: 'data' | 'stream') => void
  /** A peer was banned for a bad chunk. */
  banned: () => void
  /** A chunk failed its sha256 check, from the registry or a peer. */
  chunkRejected: (source: 'registry' | 'peer') => void
  /** The bytes counted so far, for the node record. */
  totals: () => TransferTotals
  /** Prometheus' text format. */
  text: () => Promise<string>
  contentType: string
}

/**
 * How often the event loop's delay is sampled for `nodejs_eventloop_lag_*`. prom-client's 10 ms
 * woke an idle daemon 100 times a second, an eighth of its idle CPU in a 17-node cluster
 * (docs/benchmarks.md); any stall still delays the next sample.
 */
export const EVENT_LOOP_SAMPLE_MS = 100

/**
 * The node's metrics in Prometheus' text format: process metrics, and gauges read from the
 * cluster view at scrape time (members, intents, coverage, this node's GPUs, the inference
 * queue), so nothing is counted twice and nothing goes stale between scrapes.
 */
export function createMetrics (c: MetricsComponents): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
  // Gauges named like counters, which promtool rejects; the same totals stay under names without _total.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name)
  const self = (): ReturnType<ClusterState['member']> => c.state.member(c.state.selfId)

  new Gauge({
    name: 'ollamad_cluster_members',
    help: 'Nodes in the cluster view, by liveness.',
    labelNames: ['state'],
    registers: [registry],
    collect () {
      const counts = { alive: 0, suspect: 0, gone: 0 }
      for (const m of c.state.members()) counts[m.liveness]++
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n)
    }
  })
  new Gauge({
    name: 'ollamad_intents',
    help: 'Intents held (placement, deletes, jobs, limits), tombstones included.',
    registers: [registry],
    collect () { this.set(c.intents.entries().length) }
  })
  new Gauge({
    name: 'ollamad_model_copies',
    help: 'Complete copies of each model in the cluster, by the nodes that are not gone.',
    labelNames: ['model'],
    registers: [registry],
    collect () {
      this.reset()
      const copies = new Map<string, number>()
      for (const m of c.state.members()) {
        if (m.liveness === 'gone') continue
        for (const h of m.record.models) {
          const k = modelKey(h.name)
          if (k !== undefined) copies.set(k, (copies.get(k) ?? 0) + 1)
        }
      }
      for (const [model, n] of copies) this.set({ model }, n)
    }
  })
  const gpu = (name: string, help: string, field: 'memoryUsed' | 'memoryFree' | 'memoryTotal'): void => {
    new Gauge({
      name,
      help,
      labelNames: ['gpu', 'name'],
      registers: [registry],
      collect () {
        this.reset()
        for (const g of self()?.record.gpus ?? []) this.set({ gpu: String(g.index), name: g.name }, Number(g[field]))
      }
    })
  }
  gpu('ollamad_gpu_memory_used_bytes', 'VRAM in use on each GPU of this node.', 'memoryUsed')
  gpu('ollamad_gpu_memory_free_bytes', 'VRAM free on each GPU of this node.', 'memoryFree')
  gpu('ollamad_gpu_memory_total_bytes', 'VRAM of each GPU of this node.', 'memoryTotal')
  new Gauge({
    name: 'ollamad_jobs',
    help: 'This node\'s parts of cluster pull jobs, by state (pending, pulling, completed, error, cancelled).',
    labelNames: ['state'],
    registers: [registry],
    collect () {
      this.reset()
      const counts = new Map<string, number>()
      for (const j of self()?.record.jobs ?? []) counts.set(j.state, (counts.get(j.state) ?? 0) + 1)
      for (const [state, n] of counts) this.set({ state }, n)
    }
  })
  new Gauge({
    name: 'ollamad_inference_queue_requests',
    help: 'Inference requests at the local Ollama, running and waiting.',
    labelNames: ['state'],
    registers: [registry],
    collect () {
      const s = c.queue()
      this.set({ state: 'running' }, s.running)
      this.set({ state: 'waiting' }, s.waiting)
    }
  })
  const requests = new Histogram({
    name: 'ollamad_http_request_duration_seconds',
    help: 'HTTP requests answered, by route pattern, method, status and serving node (inference), until the answer ended.',
    labelNames: ['route', 'method', 'status', 'node'],
    buckets: [0.005, 0.025, 0.1, 0.5, 2.5, 10, 60, 300],
    registers: [registry]
  })
  const refused = new Counter({
    name: 'ollamad_http_requests_refused_total',
    help: 'HTTP requests refused at the edge, by reason (origin, host, token).',
    labelNames: ['reason'],
    registers: [registry]
  })
  const received = new Counter({ name: 'ollamad_transfer_received_bytes_total', help: 'Blob bytes that landed here in verified chunks, by source.', labelNames: ['source'], registers: [registry] })
  const chunks = new Counter({ name: 'ollamad_transfer_chunks_total', help: 'Verified chunks that landed here, by source.', labelNames: ['source'], registers: [registry] })
  const sent = new Counter({ name: 'ollamad_transfer_sent_bytes_total', help: 'Blob bytes sent to peers.', registers: [registry] })
  const rejected = new Counter({ name: 'ollamad_transfer_chunks_rejected_total', help: 'Chunks that failed their sha256 check, by source.', labelNames: ['source'], registers: [registry] })
  // Known label values start at zero, so a rate() over them works before the first rejection.
  for (const source of ['registry', 'peer']) rejected.inc({ source }, 0)
  const totals: TransferTotals = { fromPeers: 0, fromRegistry: 0, toPeers: 0 }
  if (c.gossip !== undefined) {
    const g = c.gossip
    new Counter({
      name: 'ollamad_gossip_messages_total',
      help: 'Gossip messages of the cluster topic: sent, received, and dropped (invalid, rejected with their relay).',
      labelNames: ['event'],
      registers: [registry],
      collect () {
        this.reset()
        for (const event of ['sent', 'received', 'dropped'] as const) this.inc({ event }, g[event])
      }
    })
  }
  /** Requests from peers, by the way they came (both ways shown from the start). */
  const byWay = (name: string, help: string): (via: 'data' | 'stream') => void => {
    const counter = new Counter({ name, help, labelNames: ['via'], registers: [registry] })
    for (const via of ['data', 'stream']) counter.inc({ via }, 0)
    return (via) => { counter.inc({ via }) }
  }
  const blobRequest = byWay('ollamad_transfer_requests_served_total', 'Blob requests from peers served, by the way they came: a data connection or a libp2p stream.')
  const inferRequest = byWay('ollamad_inference_peer_requests_total', 'Inference requests from other nodes taken here, by the way they came: a data connection or a libp2p stream.')
  const bans = new Counter({ name: 'ollamad_peer_bans_total', help: 'Peers banned for sending chunks that failed their check.', registers: [registry] })
  new Counter({
    name: 'ollamad_gossip_records_total',
    help: 'Node records heard by gossip and sync: merged (newer), stale (not newer), dropped (invalid or refused messages).',
    labelNames: ['result'],
    registers: [registry],
    collect () {
      this.reset()
      for (const [result, n] of Object.entries(c.state.stats)) this.inc({ result }, n)
    }
  })
  return {
    registry,
    chunkIn: (bytes, source) => {
      received.inc({ source }, bytes)
      chunks.inc({ source })
      if (source === 'peer') totals.fromPeers += bytes; else totals.fromRegistry += bytes
    },
    bytesOut: (n) => { sent.inc(n); totals.toPeers += n },
    blobRequest,
    inferRequest,
    banned: () => { bans.inc() },
    chunkRejected: (source) => { rejected.inc({ source }) },
    totals: () => ({ ...totals }),
    observeRequest: (r, seconds) => { requests.observe({ route: r.route, method: r.method, status: String(r.status), node: r.node }, seconds) },
    refused: (reason) => { refused.inc({ reason }) },
    text: async () => await registry.metrics(),
    contentType: registry.contentType
  }
}
