import { OllamadError, isOllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import type { RateLimiter } from '../util/rate-limit.js'
import type { RegistryClient } from '../registry/index.js'
import type { Store, ModelName, PartialBlob, Layer } from '../store/index.js'
import { chunkCount, chunkFitsChain, chunkRange, chunkSize, digestHex } from '../store/index.js'
import { createInOrderHasher, HASH_THREAD_MIN_BYTES } from './download/hasher.js'
import { fetchFromRegistry, fetchChunkFromRegistry, type FetchTuning } from './download/registry-source.js'
import { fetchFromSwarm } from './download/swarm-download.js'
import type { BufferPool } from '../util/buffers.js'
import type { ChunkSource } from './download/options.js'
import { noSwarm, type SwarmAccess } from './holdings/swarm-access.js'
import type { Arrivals } from './serving/arrivals.js'
import { throttle } from '../util/throttle.js'
import type { Logger } from '../util/logger.js'
import { PROGRESS_INTERVAL_MS, PEER_BAN_MS, SWARM_INFLIGHT_BYTES } from './constants.js'

export interface BlobDownloadComponents {
  store: Store
  registry: RegistryClient
  clock: Clock
  limiter: RateLimiter
  swarm?: SwarmAccess
  /** Where chunks from peers show while they arrive, for relaying. */
  arrivals?: Arrivals
  /** Chunk buffers shared by the node's downloads. */
  buffers?: BufferPool
  log?: Logger
}

export interface BlobDownloadOptions extends FetchTuning {
  name: ModelName
  layer: Layer
  insecure?: boolean
  signal?: AbortSignal
  onProgress: (completed: number, total: number) => void
  /** Sees the partial while it is being filled, and each chunk as it lands. */
  onOpen?: (partial: PartialBlob) => void
  onChunk?: (index: number, from?: ChunkSource) => void
  onReject?: (source: 'registry' | 'peer') => void
  /** Skip peers: the retry after peers' unchecked chunks made a wrong blob. */
  registryOnly?: boolean
  /** A pull by these nodes at once: each chunk crosses the WAN once, fetched by its owner. */
  coordinate?: { targets: readonly string[] }
}

/**
 * Brings one blob into a verified partial: resumes what is on disk, takes chunks from peers that
 * hold them (the registry filling in what no peer has), or from the registry alone, and checks
 * the whole blob: chunk by chunk against the chunk map's sha256 chain, or by hashing it in order
 * where there is no map. On a mismatch the data is discarded; when chunks came from peers that
 * had no chunk map to check them against, those peers are banned and the blob is fetched once
 * more from the registry alone.
 */
export async function downloadBlob (c: BlobDownloadComponents, o: BlobDownloadOptions): Promise<PartialBlob> {
  const swarm = c.swarm ?? noSwarm
  const peers = o.registryOnly === true ? [] : swarm.peersFor(o.layer.digest, o.layer.size)
  const owners = o.registryOnly !== true && o.coordinate !== undefined && swarm.registryOwner !== undefined ? o.coordinate.targets : undefined
  const map = peers.length > 0 ? await swarm.chunkMap(o.layer.digest, o.layer.size, o.signal).catch(() => undefined) : undefined
  // The chunk map the download checks against, also one found while it runs.
  let usedMap = map
  const partial = await openChecked(c.store, o.layer, map?.chain, o.signal)
  o.onOpen?.(partial)
  let unverified = new Map<number, string>()
  const fromSwarm = peers.length > 0 || owners !== undefined
  // With a chunk map from the start, every chunk is checked against its chain as it lands, and
  // the chain ends in the digest: that checks the whole blob. Without one, this node hashes the
  // blob in order, and as a first holder it makes the map from that pass. An empty blob has no
  // bytes to check against a chain: it is always hashed (at no cost).
  const hasher = map === undefined || o.layer.size === 0 ? createInOrderHasher(partial, { thread: !fromSwarm && o.layer.size >= HASH_THREAD_MIN_BYTES }) : undefined
  try {
    hasher?.kick()
    // Progress lines go out at most every 100 ms, as Ollama's do every 60 ms.
    const report = throttle(c.clock, PROGRESS_INTERVAL_MS, () => { o.onProgress(partial.bytesDone(), o.layer.size) })
    o.onProgress(partial.bytesDone(), o.layer.size)
    const onChunk = (i: number, from?: ChunkSource): void => {
      if (from?.data !== undefined) hasher?.offer(i, from.data)
      else hasher?.kick()
      o.onChunk?.(i, from)
    }
    if (fromSwarm) {
      const result = await fetchFromSwarm({
        sources: {
          peers: () => swarm.peersFor(o.layer.digest, o.layer.size),
          client: swarm.client,
          registryFetch: async (index, signal) => await fetchChunkFromRegistry({ ...c, stallTimeoutMs: o.stallTimeoutMs }, o.name, o.layer.digest, o.layer.size, index, o.insecure, signal),
          ...(owners !== undefined ? { registryAllowed: (index: number) => swarm.registryOwner?.(o.layer.digest, o.layer.size, index, owners) ?? true } : {}),
          findMap: async (signal) => {
            const found = await swarm.chunkMap(o.layer.digest, o.layer.size, signal)
            usedMap ??= found
            return found?.chain
          }
        },
        limiter: c.limiter,
        clock: c.clock,
        bans: swarm.bans,
        arrivals: c.arrivals,
        buffers: c.buffers,
        log: c.log
      }, {
        partial,
        verify: { chain: map?.chain },
        signal: o.signal,
        onChunk,
        onReject: o.onReject,
        onBytes: report,
        seed: swarm.seed,
        selfId: swarm.selfId,
        // Chunks are checked in memory before they are written; this bounds that memory.
        maxInflightBytes: SWARM_INFLIGHT_BYTES
      }).finally(() => { report.cancel() })
      unverified = result.unverified
    } else {
      await fetchFromRegistry({ ...o, registry: c.registry, clock: c.clock, limiter: c.limiter, partial, onBytes: report, onChunk })
        .finally(() => { report.cancel() })
    }
    o.onProgress(o.layer.size, o.layer.size)
    const got = hasher !== undefined ? await hasher.finish() : digestHex(o.layer.digest)
    if (got !== digestHex(o.layer.digest)) {
      await partial.discard()
      if (unverified.size > 0 && o.registryOnly !== true) {
        for (const peer of new Set(unverified.values())) swarm.bans.ban(peer, PEER_BAN_MS)
        return await downloadBlob(c, { ...o, registryOnly: true })
      }
      throw new OllamadError('DIGEST_MISMATCH', `digest mismatch, file must be downloaded again: want ${o.layer.digest}, got sha256:${got}`)
    }
    // Verified whole: this node can now vouch for the chunk map (its own, or the one it used).
    const chain = hasher?.chain() ?? map?.chain
    if (chain !== undefined) await swarm.saveChunkMap(o.layer.digest, o.layer.size, chain).catch(() => {})
    return partial
  } catch (e) {
    await hasher?.close()
    // The registry's own bytes disagree with the chunk map: the map is false, and so are the
    // peers that vouch for it. They are banned, and the blob comes from the registry alone.
    if (isOllamadError(e, 'CHUNK_MAP_INVALID') && usedMap !== undefined && o.registryOnly !== true) {
      const vouchers = swarm.vouchers(o.layer.digest, o.layer.size, usedMap.cid)
      for (const peer of vouchers) swarm.bans.ban(peer, PEER_BAN_MS)
      c.log?.info(`${e.message}; no longer trusting it or the peers that vouch for it (${vouchers.join(', ') || 'none'})`)
      await partial.discard()
      return await downloadBlob(c, { ...o, registryOnly: true })
    }
    await partial.close()
    throw e
  }
}

/**
 * Opens the blob's partial. Chunks that are on disk from before a restart were checked as they
 * landed; against a chain they are checked once more from disk, as the new ones are in memory,
 * and a partial with a chunk that does not fit (or is cut short) starts over.
 */
async function openChecked (store: Store, layer: Layer, chain: Uint8Array[] | undefined, signal?: AbortSignal): Promise<PartialBlob> {
  const partial = await store.openPartial(layer.digest, layer.size)
  if (chain === undefined || partial.bitmap.count() === 0) return partial
  try {
    if (await resumedFit(partial, chain, signal)) return partial
    await partial.discard()
  } catch (e) {
    await partial.close()
    throw e
  }
  return await store.openPartial(layer.digest, layer.size)
}

async function resumedFit (partial: PartialBlob, chain: Uint8Array[], signal?: AbortSignal): Promise<boolean> {
  const buf = new Uint8Array(chunkSize(partial.size))
  for (let i = 0; i < chunkCount(partial.size); i++) {
    if (!partial.bitmap.get(i)) continue
    signal?.throwIfAborted()
    const { start, end } = chunkRange(partial.size, i)
    const data = buf.subarray(0, end - start)
    // A regular file reads whole but at its end: a short read is a chunk cut short.
    if (await partial.read(data, start, data.byteLength) < data.byteLength || !chunkFitsChain(chain, partial.size, i, data)) return false
  }
  return true
}
