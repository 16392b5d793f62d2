import { timingSafeEqual } from 'node:crypto'
import { OllamadError, errorMessage, isOllamadError } from '../../errors.js'
import { chunkCount, chunkRange, chunkSize, chunkHash } from '../../store/index.js'
import { linkedController } from '../../util/abort.js'
import { pick, REGISTRY, type InflightRequest } from './picker.js'
import { PeerState } from './peer-state.js'
import { crowdRules } from './crowd.js'
import type { ArrivalHandle } from '../serving/arrivals.js'
import type { SwarmDownloadOptions, SwarmResult, SwarmSources } from './options.js'

export { REGISTRY } from './picker.js'
export type { PeerView } from './peer-state.js'
export type { SwarmSources, SwarmDownloadOptions, ChunkSource, SwarmResult } from './options.js'

interface Request extends InflightRequest {
  ac: AbortController
  /** A registry request for a chunk no peer holds: its failures count toward giving up. */
  orphan: boolean
  /** An endgame duplicate: it may run alongside another request that is already being served. */
  endgame: boolean
  /** When its peer began to serve it; unset while it waits for an upload slot there. */
  servedAt?: number
  /** Its bytes as they arrive, for relays (from when its peer began to serve it). */
  arrival?: ArrivalHandle
  /** Bytes received so far. */
  got: number
  /** Asked of a peer that had the chunk only arriving (a relay): a cut is no fault of that peer. */
  relayed: boolean
}

const DEFAULT_INFLIGHT_BYTES = 128 * 1024 * 1024
const OWNER_POLL_MS = 250
/** Endgame duplicates start when at most this many chunks are missing. */
const ENDGAME_CHUNKS = 4
/** A peer request with no answer for this long waits in the peer's queue (an idle peer answers in a round trip). */
const QUEUED_AFTER_MS = 500

const sameHash = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && timingSafeEqual(a, b)

/**
 * Fills the partial's missing chunks from many peers at once (and the registry for chunks no peer
 * holds), checking each chunk before it is written. Bad chunks ban their peer; failures rest it;
 * its chunks go to other sources.
 */
export async function fetchFromSwarm (o: SwarmDownloadOptions): Promise<SwarmResult> {
  const { partial, clock, sources } = o
  const perPeer = o.inflightPerPeer ?? 4
  const timeoutMs = o.timeoutMs ?? 30_000
  const banMs = o.banMs ?? 300_000
  const refreshMs = Math.max(100, o.refreshMs ?? 2_000)
  const stuckMs = o.stuckTimeoutMs ?? 120_000
  const registryRetries = o.registryRetries ?? 3
  const bans = o.bans ?? new Map<string, number>()
  let mapHashes = o.verify?.chunkHashes
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32)
  const chunks = chunkCount(partial.size)
  const maxInflight = Math.max(1, Math.floor((o.maxInflightBytes ?? DEFAULT_INFLIGHT_BYTES) / chunkSize(partial.size)))
  if (mapHashes !== undefined && mapHashes.length !== chunks) {
    throw new OllamadError('CHUNK_MAP_INVALID', `chunk map has ${mapHashes.length} hashes for ${chunks} chunks`)
  }
  const result: SwarmResult = { unverified: new Map(), fromPeers: 0, fromRegistry: 0, banned: [] }
  const peers = new Map<string, PeerState>()
  let present = new Set<string>()
  const inflight = new Set<Request>()
  const pending = new Set<Promise<void>>()
  const landing = new Set<number>()
  let registryFailures = 0
  let registryRestUntil = 0
  let fatal: unknown
  let lastProgress = clock.now()
  let lastRefresh = -Infinity

  const race = o.raceQueued ?? true
  /** A peer request whose peer has not begun to serve it (so it may be raced, once it has waited a while). */
  const waitsAtPeer = (r: Request): boolean => race && r.source !== REGISTRY && r.servedAt === undefined
  const { ac: run, release } = linkedController(o.signal)
  let wakeUp: (() => void) | undefined
  const wake = (): void => { const w = wakeUp; wakeUp = undefined; w?.() }
  run.signal.addEventListener('abort', wake, { once: true })
  const stop = (e: unknown): void => { fatal ??= e; run.abort(e) }

  /** When each peer's copy last grew: a downloader that stops growing is not waited for. */
  const growth = new Map<string, { count: number, at: number }>()
  /** Since when other downloaders of the blob are in view. */
  let crowdSince: number | undefined
  const syncPeers = (): void => {
    const views = typeof sources.peers === 'function' ? sources.peers() : sources.peers
    present = new Set()
    for (const v of views) {
      const count = v.bitmap.count()
      const g = growth.get(v.id)
      if (g === undefined || count > g.count) growth.set(v.id, { count, at: clock.now() })
      if (v.bitmap.length !== chunks) { o.log?.debug(`ignoring ${v.id}: its bitmap has ${v.bitmap.length} chunks, not ${chunks}`); continue }
      const st = peers.get(v.id)
      if (st === undefined) peers.set(v.id, new PeerState(v))
      else st.update(v)
      present.add(v.id)
    }
  }
  const done = (i: number): boolean => partial.bitmap.get(i) || landing.has(i)
  // A peer that finished the blob offers its map: from then on every chunk is checked against it.
  let lookingForMap = false
  let lastMapLook = -Infinity
  const lookForMap = (now: number): void => {
    if (mapHashes !== undefined || sources.findMap === undefined || lookingForMap || now - lastMapLook < refreshMs) return
    if (![...peers.values()].some(st => present.has(st.id) && st.view.hasMap === true)) return
    lookingForMap = true
    lastMapLook = now
    void sources.findMap(run.signal).then(h => { if (h !== undefined && h.length === chunks && mapHashes === undefined) mapHashes = h }, () => {})
      .finally(() => { lookingForMap = false; wake() })
  }
  const ban = (st: PeerState, why: string): void => {
    bans.set(st.id, clock.now() + banMs)
    if (!result.banned.includes(st.id)) result.banned.push(st.id)
    o.log?.info(`banned peer ${st.id} for ${banMs} ms: ${why}`)
    for (const r of inflight) if (r.source === st.id) r.ac.abort(new OllamadError('ABORTED', 'peer banned'))
  }

  const land = async (r: Request, data: Uint8Array): Promise<void> => {
    const st = peers.get(r.source)
    const want = mapHashes?.[r.chunk] ?? st?.view.announced?.get(r.chunk)
    if (done(r.chunk)) {
      // Another request brought it (or is writing it): relays of this one may end on its own bytes, once checked.
      if (r.arrival !== undefined && want !== undefined && sameHash(chunkHash(data), want)) r.arrival.land()
      return
    }
    const hash = chunkHash(data)
    if (want !== undefined && !sameHash(hash, want)) {
      if (st !== undefined) { ban(st, `chunk ${r.chunk} of ${partial.digest} does not match its hash`); return }
      throw new OllamadError('DIGEST_MISMATCH', `the registry's chunk ${r.chunk} of ${partial.digest} does not match the chunk map`)
    }
    if (st !== undefined && want === undefined) return // nothing to check it against: never accept
    landing.add(r.chunk)
    try {
      await partial.write(data, chunkRange(partial.size, r.chunk).start)
      await partial.markDone(r.chunk)
      r.arrival?.land()
    } finally {
      landing.delete(r.chunk)
    }
    lastProgress = clock.now()
    if (st !== undefined) {
      if (r.relayed) o.log?.debug(`chunk ${r.chunk} of ${partial.digest} came from ${st.id} as it arrived there`)
      st.succeed()
      st.sample(data.byteLength, clock.now() - r.started)
      result.fromPeers++
      if (mapHashes === undefined) result.unverified.set(r.chunk, st.id)
    } else {
      registryFailures = 0
      result.fromRegistry++
    }
    for (const other of inflight) {
      if (other === r || other.chunk !== r.chunk) continue
      // Relays of the other request go on from these checked bytes instead of failing.
      other.arrival?.landWith(data)
      other.ac.abort(new OllamadError('ABORTED', 'chunk done elsewhere'))
    }
    o.onChunk?.(r.chunk, { source: r.source, hash, checked: mapHashes !== undefined ? 'map' : st !== undefined ? 'announced' : 'none' })
  }

  const failed = (r: Request, e: unknown): void => {
    if (run.signal.aborted || done(r.chunk) || r.ac.signal.aborted && !isOllamadError(r.ac.signal.reason, 'STALLED')) return
    if (r.source === REGISTRY) {
      // Only a chunk that no peer holds makes registry failures fatal; one whose holders merely
      // rest (an air-gapped LAN with a busy holder) waits for them instead.
      if (r.orphan) registryFailures++
      if (registryFailures > registryRetries) { stop(e); return }
      registryRestUntil = clock.now() + 1_000 * 2 ** Math.min(5, Math.max(0, registryFailures - 1))
      return
    }
    const st = peers.get(r.source)
    if (st === undefined) return
    o.log?.debug(`chunk ${r.chunk} from ${r.source} failed: ${errorMessage(e)}`)
    if (isOllamadError(e, 'BLOB_NOT_FOUND')) st.deny(r.chunk)
    else if (isOllamadError(e, 'PEER_BUSY')) st.rest(clock.now())
    else if (isOllamadError(e, 'PEER_PROTOCOL')) ban(st, errorMessage(e))
    // A relay is cut when the chunk's own download there ends (a lost race, a stall upstream): rest it briefly.
    else if (r.relayed) st.rest(clock.now())
    else st.fail(clock.now(), banMs)
  }

  // Chunk buffers are reused: a download of many chunks otherwise leaves one chunk of garbage
  // per chunk, and the GC lets that pile up to tens of megabytes before it collects.
  const spare: Uint8Array[] = []
  const takeBuffer = (n: number): Uint8Array => { const b = spare.pop(); return b !== undefined && b.byteLength >= n ? b : new Uint8Array(chunkSize(partial.size)) }
  const giveBack = (b: Uint8Array): void => { if (spare.length < maxInflight) spare.push(b) }

  /** The first request of a chunk to be served wins; the others still queued are withdrawn. */
  const served = (r: Request, buffer: Uint8Array | undefined): void => {
    if (r.ac.signal.aborted) return // it lost the race as its answer came
    r.servedAt = clock.now()
    for (const other of inflight) {
      if (other === r || other.chunk !== r.chunk) continue
      if (other.servedAt === undefined) other.ac.abort(new OllamadError('ABORTED', 'served by another peer'))
      else if (!r.endgame) r.ac.abort(new OllamadError('ABORTED', 'already coming from another peer'))
    }
    if (!r.ac.signal.aborted && buffer !== undefined) {
      const { start: from, end } = chunkRange(partial.size, r.chunk)
      r.arrival = o.arrivals?.begin(partial.digest, r.chunk, buffer, end - from)
    }
    wake()
  }

  const start = (chunk: number, source: string, orphan = false, endgame = false): void => {
    const { ac, release: unlink } = linkedController(run.signal)
    const st = peers.get(source)
    const r: Request = { chunk, source, started: clock.now(), ac, orphan, endgame, got: 0, relayed: st !== undefined && !st.heldWhole(chunk) }
    if (st !== undefined) st.inflight++
    inflight.add(r)
    const { start: from, end } = chunkRange(partial.size, chunk)
    const buffer = st === undefined ? undefined : takeBuffer(end - from)
    const fetch = st === undefined
      ? (sources.registryFetch as NonNullable<SwarmSources['registryFetch']>)(chunk, ac.signal).then(data => {
          if (data.byteLength !== end - from) throw new OllamadError('REGISTRY_ERROR', `registry sent ${data.byteLength} bytes for chunk ${chunk}`)
          return data
        })
      : sources.client.chunk(source, partial.digest, chunk, end - from, {
        signal: ac.signal,
        // The client stops its stall clock while our own rate cap holds the stream.
        limiter: o.limiter,
        onBytes: (n) => { r.got += n; r.arrival?.progress(r.got); o.onBytes?.(n) },
        stallMs: timeoutMs,
        into: buffer,
        onStart: () => { served(r, buffer) }
      })
    const settled = fetch.then(async data => { await land(r, data) }, e => {
      const why = ac.signal.aborted ? ac.signal.reason : e
      // Bytes that crossed the network for nothing: what duplicates and dropped requests cost.
      if (r.got > 0) o.log?.debug(`chunk ${r.chunk} from ${r.source} dropped after ${r.got} bytes${r.endgame ? ' (endgame)' : ''}: ${errorMessage(why)}`)
      failed(r, why)
    })
      .catch(stop)
      .finally(() => {
        // The request is over and the chunk written (or dropped): once no relay reads the buffer, it is free.
        if (buffer !== undefined) {
          if (r.arrival !== undefined) r.arrival.release(() => { giveBack(buffer) })
          else giveBack(buffer)
        }
        unlink()
        inflight.delete(r)
        pending.delete(settled)
        if (st !== undefined) st.inflight--
        wake()
      })
    pending.add(settled)
  }

  /** Asks partial holders for fresh bitmaps, when some missing chunk has no usable source. */
  const refresh = (now: number): void => {
    if (now - lastRefresh < refreshMs) return
    lastRefresh = now
    for (const st of peers.values()) {
      if (!present.has(st.id) || st.refreshing || st.complete() || (bans.get(st.id) ?? 0) > now) continue
      st.refreshing = true
      void sources.client.have(st.id, partial.digest, { signal: run.signal })
        .then(h => { if (h !== undefined && h.size === partial.size) st.report(h.bitmap) }, () => {})
        .finally(() => { st.refreshing = false; wake() })
    }
  }

  /** Whether waiting could help: a peer may rest or grow its bitmap, or new holders may appear. */
  const mayChange = (now: number): boolean => typeof sources.peers === 'function' || registryRestUntil > now ||
    [...peers.values()].some(st => st.restUntil > now || (bans.get(st.id) ?? 0) > now || (present.has(st.id) && !st.complete()))

  /** Waits for a request to end, a timer, or the abort. */
  const sleep = async (ms: number): Promise<void> => {
    if (run.signal.aborted) return
    await new Promise<void>(resolve => {
      const t = Number.isFinite(ms) ? clock.setTimeout(wake, Math.max(0, ms)) : undefined
      wakeUp = () => { if (t !== undefined) clock.clearTimeout(t); resolve() }
    })
  }

  try {
    if (partial.size === 0 && !partial.bitmap.get(0)) {
      await partial.markDone(0)
      o.onChunk?.(0, { source: REGISTRY, hash: chunkHash(new Uint8Array(0)), checked: 'none' })
    }
    while (!partial.bitmap.full() && !run.signal.aborted) {
      syncPeers()
      const now = clock.now()
      lookForMap(now)
      // A chunk coming to us now may be relayed on by others from our own bytes: they are no source
      // for a duplicate of it. (They still count as passing it on, so first holders are not asked
      // for duplicates: their uplink is what a crowd shares.)
      const receiving = new Set([...inflight].filter(r => r.servedAt !== undefined).map(r => r.chunk))
      const relayOk = (i: number): boolean => !receiving.has(i)
      const pickerPeers = [...peers.values()].map(st => st.asPicker(now, bans.get(st.id), mapHashes === undefined, present.has(st.id), relayOk))
      const registryOk = sources.registryFetch !== undefined && registryRestUntil <= now
      const usable = (st: PeerState): boolean => present.has(st.id) && (bans.get(st.id) ?? 0) <= now && st.restUntil <= now
      const crowd = o.selfId === undefined
        ? undefined
        : crowdRules({ selfId: o.selfId, peers, present: id => present.has(id), usable, grewAt: id => growth.get(id)?.at, needAnnounced: mapHashes === undefined, now })
      // Requests a first holder got before the crowd was in view (each downloader sent several
      // at once) give way, so its uplink is not split over copies of the same chunks.
      if (crowd === undefined) crowdSince = undefined
      else {
        crowdSince ??= now
        for (const r of crowd.excess([...inflight], crowdSince)) (r as Request).ac.abort(new OllamadError('ABORTED', 'a first holder shared by many downloaders'))
      }
      const limited = crowd === undefined ? pickerPeers : pickerPeers.map(p => ({ ...p, limit: crowd.limit(p.id) }))
      const missing = partial.bitmap.missing()
      const picks = pick({
        chunks,
        have: done,
        peers: limited,
        inflight: [...inflight].map(r => ({ chunk: r.chunk, source: r.source, started: r.started, queued: waitsAtPeer(r) && now - r.started >= QUEUED_AFTER_MS })),
        perPeerLimit: perPeer,
        maxInflight,
        registry: registryOk ? { limit: o.registryConcurrency ?? 4, allowed: sources.registryAllowed } : undefined,
        // Endgame only for the last few chunks: with few chunks and many peers, "every chunk is
        // requested" comes almost at once, and early duplicates all land on the first holder.
        endgame: (o.endgame ?? true) && missing.length <= Math.max(ENDGAME_CHUNKS, perPeer),
        seed,
        share: crowd?.share,
        defer: crowd?.defer,
        avoid: crowd?.avoid,
        raceQueued: race
      })
      for (const p of picks) start(p.chunk, p.source, p.orphan === true, p.duplicate && p.race !== true)
      const orphans = missing.some(i => !done(i) && !pickerPeers.some(p => p.banned !== true && p.has(i)))
      if (orphans) refresh(now)
      if (inflight.size === 0 && (now - lastProgress >= stuckMs || !mayChange(now))) {
        throw new OllamadError('BLOB_NOT_FOUND', `no peer${sources.registryFetch !== undefined ? ' nor the registry' : ''} can serve the rest of ${partial.digest} (${partial.bitmap.missing().length} chunks)`)
      }
      // Wait for a request to end, a rested peer, a refresh, or the stuck deadline.
      const rests = [...peers.values()].map(st => Math.max(st.restUntil, bans.get(st.id) ?? 0)).filter(t => t > now)
      const deadline = inflight.size === 0 ? lastProgress + stuckMs : Infinity
      // Chunks owned upstream by another node show up in its record as it gets them: look often.
      // So do other downloaders of the blob, whose arrival changes what we ask a first holder for.
      const watch = (sources.registryAllowed !== undefined && orphans) || crowd !== undefined || [...inflight].some(r => peers.get(r.source)?.seed === true)
      const owned = watch ? now + OWNER_POLL_MS : Infinity
      // A request that has waited long enough in its peer's queue may be raced elsewhere.
      const queued = [...inflight].filter(r => waitsAtPeer(r) && r.started + QUEUED_AFTER_MS > now).map(r => r.started + QUEUED_AFTER_MS)
      const next = Math.min(orphans ? now + refreshMs : Infinity, owned, deadline, registryRestUntil > now ? registryRestUntil : Infinity, ...rests, ...queued)
      await sleep(next - now)
    }
  } catch (e) {
    stop(e)
  } finally {
    run.signal.removeEventListener('abort', wake)
    for (const r of inflight) r.ac.abort(new OllamadError('ABORTED', 'download stopped'))
    // No write may land in the partial after we return.
    await Promise.allSettled([...pending])
    release()
  }
  if (fatal !== undefined && !isOllamadError(fatal, 'ABORTED')) throw fatal
  if (o.signal?.aborted === true || fatal !== undefined) throw new OllamadError('ABORTED', 'download aborted', { cause: o.signal?.reason ?? fatal })
  return result
}
