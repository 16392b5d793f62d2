import { OllamadError, errorMessage, isOllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import type { RateLimiter } from '../util/rate-limit.js'
import type { Logger } from '../util/logger.js'
import type { RegistryClient, FetchedManifest } from '../registry/index.js'
import { noSwarm, type SwarmAccess } from './holdings/swarm-access.js'
import { chunkRange, fullName, manifestBlobs, nameKey, parseManifest, parseModelName, type Digest, type Layer, type ModelEntry, type ModelName, type PartialBlob, type Store } from '../store/index.js'
import { REGISTRY } from './download/picker.js'
import { downloadBlob } from './blob-download.js'
import { checkRoom, type MinFreeDisk } from './disk-room.js'
import { fetchLayers } from './layers.js'
import { createHeldBlobs } from './held.js'
import { createSharedTask, joinRun, type SharedTask } from './shared-task.js'
import { createArrivals, type Arrivals } from './serving/arrivals.js'
import { createBufferPool } from '../util/buffers.js'
import { layerStatus, type ProgressListener, type PullProgress } from './progress.js'
import * as C from './constants.js'
import { createListeners } from '../util/listeners.js'

export interface PullerComponents {
  store: Store
  registry: RegistryClient
  clock: Clock
  limiter: RateLimiter
  log: Logger
  /** The cluster, as a source of chunks and manifests. @default noSwarm */
  swarm?: SwarmAccess
  /** Hears of each chunk that lands, with its bytes and where it came from (the metrics). */
  onChunkLanded?: (bytes: number, source: 'registry' | 'peer') => void
  /** Hears of each chunk that failed its check. */
  onChunkRejected?: (source: 'registry' | 'peer') => void
}

export interface PullerInit {
  /** Parallel Range requests per blob. @default 16 */
  concurrency?: number
  /** @default 30000 */
  stallTimeoutMs?: number
  /** Consecutive failures of one request before the pull fails. @default 6 */
  retries?: number
  /** @default 500 */
  backoffBaseMs?: number
  /** @default 30000 */
  backoffMaxMs?: number
  /** Free disk a pull must leave. */
  minFreeDisk?: MinFreeDisk
}

export interface PullOptions {
  insecure?: boolean
  /** Pulled by these nodes at once (a cluster job): each chunk is taken upstream by one of them. */
  coordinate?: { targets: readonly string[] }
  signal?: AbortSignal
  onProgress?: ProgressListener
}

export interface Puller {
  pull: (name: ModelName, opts?: PullOptions) => Promise<ModelEntry>
  /** Fetches the missing blobs of a known manifest (from peers first) and publishes it again. */
  repair: (name: ModelName, manifestBytes: Uint8Array, opts?: PullOptions) => Promise<ModelEntry>
  /** Blobs being downloaded right now, with the chunks they hold. */
  partials: () => PartialBlob[]
  /** sha256 of the chunks of a download that came from the registry, to announce while no chunk map exists. */
  announced: (d: Digest) => ReadonlyMap<number, Uint8Array> | undefined
  /** Chunks arriving from peers right now, which this node relays as they come. */
  arrivals: Pick<Arrivals, 'get' | 'arriving'>
  /**
   * What the node record shows changed: a partial appeared or went, or (`progress`) a download
   * gained a chunk or one began or ended arriving.
   */
  onActivity: (listener: (progress: boolean) => void) => () => void
  /** Restarts the pulls that were running when the daemon last stopped. */
  resumeInterrupted: () => Promise<number>
  close: () => Promise<void>
}

interface PullRecord { name: string, insecure: boolean }
const recordKey = (n: ModelName): string => `pull/${nameKey(n)}`

interface BlobProgress { completed: number, total: number }

export function createPuller (c: PullerComponents, init: PullerInit = {}): Puller {
  const models = new Map<string, SharedTask<ModelEntry, PullProgress>>()
  const blobs = new Map<string, SharedTask<PartialBlob, BlobProgress>>()
  const active = new Map<string, PartialBlob>()
  const announced = new Map<string, Map<number, Uint8Array>>()
  const held = createHeldBlobs(d => { announced.delete(d) })
  const swarm = c.swarm ?? noSwarm
  const listeners = createListeners<[boolean]>()
  const activity = (progress = false): void => { listeners.emit(progress) }
  const arrivals = createArrivals()
  arrivals.onChange(() => { activity(true) })
  // One pool of chunk buffers for every download: a pool per download left its buffers to the GC,
  // and glibc kept the freed memory, so the node's RSS rose with each pull (130 MiB to 205 MiB
  // over six 1 GiB pulls from a peer).
  const buffers = createBufferPool(0, C.CHUNK_BUFFERS_KEPT, C.CHUNK_BUFFER_BYTES_KEPT)
  const shutdown = new AbortController()
  const background = new Set<Promise<unknown>>()
  const opts = {
    concurrency: init.concurrency ?? C.DEFAULT_CONCURRENCY,
    stallTimeoutMs: init.stallTimeoutMs ?? C.DEFAULT_STALL_TIMEOUT_MS,
    retries: init.retries ?? C.DEFAULT_RETRIES,
    backoffBaseMs: init.backoffBaseMs ?? C.BACKOFF_BASE_MS,
    backoffMaxMs: init.backoffMaxMs ?? C.BACKOFF_MAX_MS
  }

  /** Two models that share a layer, or two pulls of one model, download it once. */
  const joinBlob = async (name: ModelName, layer: Layer, insecure: boolean, coordinate: PullOptions['coordinate'], onProgress: ((p: BlobProgress) => void) | undefined, signal: AbortSignal): Promise<PartialBlob> =>
    await joinRun(blobs, layer.digest, () => createSharedTask<PartialBlob, BlobProgress>(
        async (emit, signal) => await downloadBlob({ ...c, arrivals, buffers }, {
          ...opts,
          name,
          layer,
          insecure,
          signal,
          onProgress: (completed, total) => { emit({ completed, total }) },
          coordinate,
          onOpen: (p) => { active.set(layer.digest, p); activity() },
          onReject: c.onChunkRejected,
          onChunk: (i, from) => {
            const { start, end } = chunkRange(layer.size, i)
            c.onChunkLanded?.(end - start, from === undefined || from.source === REGISTRY ? 'registry' : 'peer')
            if (from?.source === REGISTRY && from.hash !== undefined) {
              const m = announced.get(layer.digest) ?? new Map<number, Uint8Array>()
              m.set(i, from.hash)
              announced.set(layer.digest, m)
            }
            activity(true)
          }
        }),
        () => 'progress',
        () => { blobs.delete(layer.digest); active.delete(layer.digest); if (!held.has(layer.digest)) announced.delete(layer.digest); activity() },
        async partial => { await partial.close() }),
    onProgress, signal)

  /** The registry's manifest when it answers; otherwise the cluster's copy (air-gapped LANs). */
  const resolveManifest = async (name: ModelName, insecure: boolean, signal: AbortSignal): Promise<FetchedManifest> => {
    try {
      return await c.registry.getManifest(name, { insecure, signal })
    } catch (e) {
      if (isOllamadError(e, 'ABORTED')) throw e
      const fromCluster = await swarm.manifestFor(name, signal).catch((ce: unknown) => {
        if (!signal.aborted) c.log.info(`the cluster gave no manifest for ${fullName(name)} either: ${errorMessage(ce)}`)
        return undefined
      })
      // A pull cancelled while it waited for the cluster's copy is cancelled, not a registry failure.
      if (fromCluster === undefined) { signal.throwIfAborted(); throw e }
      c.log.info(`registry gave no manifest for ${fullName(name)} (${errorMessage(e)}); using the cluster's copy ${fromCluster.digest}`)
      return fromCluster
    }
  }

  /** Lets go of what a pull staged; returns what no other pull holds. */
  const release = (staged: PartialBlob[]): PartialBlob[] => {
    const free = held.release(staged)
    activity()
    return free
  }

  const runPull = async (name: ModelName, insecure: boolean, emit: (p: PullProgress) => void, signal: AbortSignal, given?: Uint8Array, coordinate?: PullOptions['coordinate']): Promise<ModelEntry> => {
    const staged: PartialBlob[] = []
    try {
      emit({ status: 'pulling manifest' })
      const { manifest, bytes } = given !== undefined ? { manifest: parseManifest(given), bytes: given } : await resolveManifest(name, insecure, signal)
      // Ollama reports the layers first and the config last.
      const [config, ...rest] = manifestBlobs(manifest)
      await checkRoom(c.store, manifestBlobs(manifest), fullName(name), init.minFreeDisk)
      await c.store.db.put(recordKey(name), { name: fullName(name), insecure } satisfies PullRecord)
      const missing: Layer[] = []
      for (const layer of [...rest, config as Layer]) {
        if (await c.store.hasBlob(layer.digest, layer.size)) emit({ status: layerStatus(layer.digest), digest: layer.digest, total: layer.size, completed: layer.size })
        else missing.push(layer)
      }
      await fetchLayers({
        layers: missing,
        have: async layer => await c.store.hasBlob(layer.digest, layer.size),
        join: async (layer, onProgress, signal) => await joinBlob(name, layer, insecure, coordinate, onProgress, signal),
        progress: (layer, p) => { emit({ status: layerStatus(layer.digest), digest: layer.digest, total: p.total, completed: p.completed }) },
        staged: partial => { staged.push(partial); held.stage(partial); activity() },
        signal
      })
      emit({ status: 'verifying sha256 digest' })
      emit({ status: 'writing manifest' })
      const { entry, pruned } = await c.store.publish(name, bytes, staged).finally(() => { release(staged) })
      await c.store.db.del(recordKey(name))
      if (pruned > 0) emit({ status: 'removing unused layers' })
      emit({ status: 'success' })
      c.log.info(`pulled ${fullName(name)} (${entry.size} bytes)`)
      return entry
    } catch (e) {
      // A layer another pull staged too stays open for it.
      for (const p of release(staged)) await p.close().catch(() => {})
      // A pull that failed or that every client gave up on is not resumed later; one cut by shutdown is.
      if (!shutdown.signal.aborted) {
        await c.store.db.del(recordKey(name)).catch(() => {})
      }
      if (!isOllamadError(e, 'ABORTED')) c.log.info(`pull of ${fullName(name)} failed: ${errorMessage(e)}`)
      throw e
    }
  }

  const pull = async (name: ModelName, o: PullOptions = {}, given?: Uint8Array): Promise<ModelEntry> => {
    if (shutdown.signal.aborted) throw new OllamadError('ABORTED', 'daemon is shutting down')
    const key = nameKey(name)
    return await joinRun(models, key, () => createSharedTask<ModelEntry, PullProgress>(
      async (emit, signal) => await runPull(name, o.insecure === true, emit, AbortSignal.any([signal, shutdown.signal]), given, o.coordinate),
      p => p.digest ?? p.status,
      () => { models.delete(key) }),
    o.onProgress, o.signal === undefined ? shutdown.signal : AbortSignal.any([o.signal, shutdown.signal]))
  }

  return {
    pull: async (name, o) => await pull(name, o),
    repair: async (name, manifestBytes, o) => await pull(name, o, manifestBytes),
    partials: () => [...active.values(), ...held.all().filter(p => !active.has(p.digest))],
    announced: (d) => announced.get(d),
    arrivals,
    onActivity: listeners.on,
    resumeInterrupted: async () => {
      const records = await c.store.db.list<PullRecord>('pull/')
      for (const [, rec] of records) {
        let name: ModelName
        try { name = parseModelName(rec.name) } catch { continue }
        c.log.info(`resuming interrupted pull of ${rec.name}`)
        const p = pull(name, { insecure: rec.insecure }).catch(() => {})
        background.add(p)
        void p.finally(() => background.delete(p))
      }
      return records.length
    },
    close: async () => {
      shutdown.abort(new OllamadError('ABORTED', 'daemon is shutting down'))
      await Promise.allSettled([...models.values()].map(async t => await t.done))
      await Promise.allSettled([...blobs.values()].map(async t => await t.done))
    }
  }
}
