import { OllamadError, isOllamadError } from '../../errors.js'
import { chunkCount, chunkHash, chunkSize } from '../../store/index.js'
import { linkedController } from '../../util/abort.js'
import { createWaker } from '../../util/waker.js'
import { createBans } from './bans.js'
import { createBufferPool } from '../../util/buffers.js'
import { crowdRules } from './crowd.js'
import { createMapWatch } from './map-watch.js'
import { createPeerTable } from './peer-table.js'
import { pick, REGISTRY } from './picker.js'
import { createRegistryBackoff } from './registry-backoff.js'
import { createRequestBook, type Request } from './requests.js'
import { createChunkFetcher } from './chunk-fetch.js'
import { swarmTuning, type SwarmDownloadComponents, type SwarmDownloadInit, type SwarmResult } from './options.js'

/** Chunks owned upstream by another node, and other downloaders, show up in records: look this often. */
const OWNER_POLL_MS = 250
/**
 * Checked chunks waiting for the disk beyond which no new request starts: a short stall of the
 * disk does not idle the link, and a long one does not fill memory with chunk buffers.
 */
const WRITE_BACKLOG = 2
/** Endgame duplicates start when at most this many chunks are missing. */
const ENDGAME_CHUNKS = 4

/**
 * Fills the partial's missing chunks from many peers at once (and the registry for chunks no peer
 * holds), checking each chunk before it is written. Bad chunks ban their peer; failures rest it;
 * its chunks go to other sources. Each round syncs the peer table with the cluster view, lets the
 * picker choose new requests, and sleeps until a request ends or a timer is due.
 */
export async function fetchFromSwarm (c: SwarmDownloadComponents, o: SwarmDownloadInit): Promise<SwarmResult> {
  const { clock, sources } = c
  const { partial } = o
  const t = swarmTuning(o)
  const chunks = chunkCount(partial.size)
  const maxInflight = Math.max(1, Math.floor(t.maxInflightBytes / chunkSize(partial.size)))
  if (o.verify?.chain !== undefined && o.verify.chain.length !== chunks) {
    throw new OllamadError('CHUNK_MAP_INVALID', `chunk map has ${o.verify.chain.length} chain values for ${chunks} chunks`)
  }
  const { ac: run, release } = linkedController(o.signal)
  const waker = createWaker(clock, run.signal)
  const book = createRequestBook(run.signal, { race: t.raceQueued })
  const table = createPeerTable({ clock, bans: c.bans ?? createBans(clock), client: sources.client, onBan: (id) => { book.dropFrom(id, 'peer banned') }, log: c.log }, { digest: partial.digest, size: partial.size, chunks, banMs: t.banMs, refreshMs: t.refreshMs })
  const map = createMapWatch(sources.findMap, { chunks, refreshMs: t.refreshMs, chain: o.verify?.chain })
  const buffers = c.buffers ?? createBufferPool(chunkSize(partial.size), maxInflight)
  const upstream = createRegistryBackoff(t.registryRetries)
  let fatal: unknown
  const stop = (e: unknown): void => { fatal ??= e; run.abort(e) }
  const fetcher = createChunkFetcher({ ...c, book, table, map, buffers, upstream, signal: run.signal, wake: waker.wake, stop }, { partial, timeoutMs: t.timeoutMs, uncached: o.verify?.chain !== undefined, onChunk: o.onChunk, onBytes: o.onBytes, onReject: o.onReject })
  const { done, start } = fetcher

  let crowdSince: number | undefined
  try {
    if (partial.size === 0 && !partial.bitmap.get(0)) {
      await partial.markDone(0)
      o.onChunk?.(0, { source: REGISTRY, hash: chunkHash(new Uint8Array(0)), checked: 'none' })
    }
    while (!partial.bitmap.full() && !run.signal.aborted) {
      table.sync(typeof sources.peers === 'function' ? sources.peers() : sources.peers)
      const now = clock.now()
      map.look(now, table.offersMap, run.signal, waker.wake)
      const needAnnounced = map.chain() === undefined
      // A chunk coming to us now may be relayed on by others from our own bytes: they are no source
      // for a duplicate of it. (They still count as passing it on, so first holders are not asked
      // for duplicates: their uplink is what a crowd shares.)
      const receiving = book.receiving()
      const peers = table.forPicker(now, needAnnounced, i => !receiving.has(i))
      const crowd = o.selfId === undefined
        ? undefined
        : crowdRules({ selfId: o.selfId, peers: table.peers, present: table.present, usable: st => table.usable(st, now), grewAt: table.grewAt, chunks, needAnnounced, now })
      // Requests a first holder got before the crowd was in view (each downloader sent several
      // at once) give way, so its uplink is not split over copies of the same chunks.
      crowdSince = crowd === undefined ? undefined : crowdSince ?? now
      if (crowd !== undefined) book.drop(crowd.excess(book.all(), crowdSince as number, r => (r as Request).servedAt !== undefined) as Request[], 'a first holder shared by many downloaders')
      const missing = partial.bitmap.missing()
      const picks = pick({
        chunks,
        have: done,
        peers: crowd === undefined ? peers : peers.map(p => ({ ...p, limit: crowd.limit(p.id) })),
        inflight: book.forPicker(now),
        perPeerLimit: t.inflightPerPeer,
        // Chunks being written hold their buffers: they count against the same budget.
        maxInflight: fetcher.writing() > WRITE_BACKLOG ? 0 : Math.max(0, maxInflight - fetcher.writing()),
        registry: sources.registryFetch !== undefined && upstream.open(now) ? { limit: t.registryConcurrency, allowed: sources.registryAllowed } : undefined,
        // Endgame only for the last few chunks: with few chunks and many peers, "every chunk is
        // requested" comes almost at once, and early duplicates all land on the first holder.
        endgame: t.endgame && missing.length <= Math.max(ENDGAME_CHUNKS, t.inflightPerPeer),
        seed: t.seed,
        share: crowd?.share,
        defer: crowd?.defer,
        avoid: crowd?.avoid,
        raceQueued: t.raceQueued
      })
      for (const p of picks) start(p.chunk, p.source, p.orphan === true, p.duplicate && p.race !== true)
      const orphans = missing.some(i => !done(i) && !peers.some(p => p.banned !== true && p.has(i)))
      if (orphans) table.refresh(now, run.signal, waker.wake)
      // Waiting could help while a peer may rest or grow, new holders may appear, or the registry rests.
      const mayChange = typeof sources.peers === 'function' || upstream.restUntil() > now || table.mayChange(now)
      if (book.size === 0 && fetcher.writing() === 0 && (now - fetcher.lastProgress() >= t.stuckTimeoutMs || !mayChange)) {
        throw new OllamadError('BLOB_NOT_FOUND', `no peer${sources.registryFetch !== undefined ? ' nor the registry' : ''} can serve the rest of ${partial.digest} (${partial.bitmap.missing().length} chunks)`)
      }
      // Chunks owned upstream by another node show up in its record as it gets them: look often.
      // So do other downloaders of the blob, whose arrival changes what we ask a first holder for.
      const watch = (sources.registryAllowed !== undefined && orphans) || crowd !== undefined || book.all().some(r => table.peers.get(r.source)?.seed === true)
      const next = Math.min(
        orphans ? now + t.refreshMs : Infinity,
        watch ? now + OWNER_POLL_MS : Infinity,
        book.size === 0 ? fetcher.lastProgress() + t.stuckTimeoutMs : Infinity,
        upstream.restUntil() > now ? upstream.restUntil() : Infinity,
        ...table.wakeTimes(now),
        // A request that has waited long enough in its peer's queue may be raced elsewhere.
        ...book.raceTimes(now))
      await waker.sleep(next - now)
    }
  } catch (e) {
    stop(e)
  } finally {
    waker.dispose()
    book.drop(book.all(), 'download stopped')
    // No write may land in the partial after we return.
    await fetcher.settled()
    release()
  }
  if (fatal !== undefined && !isOllamadError(fatal, 'ABORTED')) throw fatal
  if (o.signal?.aborted === true || fatal !== undefined) throw new OllamadError('ABORTED', 'download aborted', { cause: o.signal?.reason ?? fatal })
  return { ...fetcher.result(), banned: table.banned() }
}
