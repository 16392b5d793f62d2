import { CID } from 'multiformats/cid'
import { OllamadError, errorMessage, isOllamadError } from '../../errors.js'
import type { ClusterState, Member, NodeRecord } from '../../cluster/index.js'
import type { FetchedManifest } from '../../registry/index.js'
import { modelKey, nameKey, parseDigest, parseManifest, type ChunkMap, type ChunkMapStore, type Digest, type ModelName } from '../../store/index.js'
import { sleep, systemClock, type Clock } from '../../util/clock.js'
import type { BlobClient } from '../protocol/client.js'
import type { PeerView } from '../download/peer-state.js'
import { createBans, type Bans } from '../download/bans.js'
import { seedOf } from '../download/picker.js'
import { heldBlob, heldChunks, holdsChunk, peerView, type HeldBlob } from './record.js'
import { isRegistryOwner, ownerOrder, OWNER_TAKEOVER_MS } from './registry-owner.js'
import { noPeers } from '../protocol/no-peers.js'

/**
 * What a pull needs from the cluster: who holds chunks of a blob, its chunk map, a manifest when
 * the registry cannot give it, and a place to record the chunk maps this node makes.
 */
export interface SwarmAccess {
  peersFor: (d: Digest, size: number) => PeerView[]
  chunkMap: (d: Digest, size: number, signal?: AbortSignal) => Promise<ChunkMap | undefined>
  /** The cluster's current manifest for a name: the digest most recently pulled anywhere. */
  manifestFor: (name: ModelName, signal?: AbortSignal) => Promise<FetchedManifest | undefined>
  saveChunkMap: (d: Digest, size: number, chain: Uint8Array[]) => Promise<void>
  /** How many other live nodes hold chunk `index` of `d` (whole, or arriving there now), by their records. */
  chunkHolders: (d: Digest, index: number) => number
  /** The peers whose records vouch for this chunk map of a blob (they announce its CID). */
  vouchers: (d: Digest, size: number, map: CID) => string[]
  /**
   * In a pull by many nodes at once, whether this node is the upstream owner of a chunk: first in
   * rendezvous order among the targets, or next after owners that are gone or make no progress.
   */
  registryOwner?: (d: Digest, size: number, index: number, targets: readonly string[]) => boolean
  client: BlobClient
  /** Peers that sent bad chunks, shared by every download. */
  bans: Bans
  seed: number
  /** This node's peer id. */
  selfId?: string
}

export interface SwarmAccessComponents {
  state: ClusterState
  client: BlobClient
  maps: ChunkMapStore
  bans: Bans
  clock: Clock
}

export interface SwarmAccessInit {
  /** An upstream owner that makes no progress this long is passed over. @default 15000 */
  takeoverMs?: number
  /** How long a manifest is asked for again while its holders are busy or unreachable. @default 30000 */
  manifestRetryMs?: number
}

/** The first wait before asking a manifest's holders again; it doubles up to the next. */
const MANIFEST_RETRY_MS = 250
const MANIFEST_RETRY_MAX_MS = 2_000

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/**
 * A record's view of one blob, made once per record (null: it shows no copy). A download asks
 * for every member's view each round, several times a second, and records change far less often.
 */
const views = new WeakMap<NodeRecord, Map<string, PeerView | null>>()
function viewOf (m: Member, d: Digest, size: number): PeerView | undefined {
  let byBlob = views.get(m.record)
  if (byBlob === undefined) views.set(m.record, byBlob = new Map())
  const key = `${d} ${size}`
  let view = byBlob.get(key)
  if (view === undefined) {
    const blob = heldBlob(m.record, d, size)
    view = blob === undefined ? null : peerView(m.peerId, blob)
    byBlob.set(key, view)
  }
  return view ?? undefined
}

/** The cluster as the puller sees it: holders of chunks, chunk maps and manifests, from the gossiped records. */
export function createSwarmAccess (c: SwarmAccessComponents, init: SwarmAccessInit = {}): SwarmAccess {
  const { state, client, maps, clock } = c
  const takeoverMs = init.takeoverMs ?? OWNER_TAKEOVER_MS
  const manifestRetryMs = init.manifestRetryMs ?? 30_000
  /** Per target and blob: chunks it held when last seen, and since when that count stands. */
  const growth = new Map<string, { count: number, since: number, sequence: bigint }>()
  const orders = new Map<string, string[]>()
  /** When `peer`'s copy of `d` last grew; undefined when it is gone (a busy owner may turn suspect and still work). */
  const grewAt = (peer: string, d: Digest, size: number): number | undefined => {
    const m = state.member(peer)
    if (m === undefined || m.liveness === 'gone') return undefined
    const key = `${peer}|${d}`
    const g = growth.get(key)
    if (g === undefined || g.sequence !== m.record.sequence) {
      const blob = heldBlob(m.record, d, size)
      const count = blob === undefined ? 0 : heldChunks(blob).count()
      if (g === undefined || count > g.count) growth.set(key, { count, since: clock.now(), sequence: m.record.sequence })
      else g.sequence = m.record.sequence
    }
    return (growth.get(key) as { since: number }).since
  }
  // A holder busy uploading can miss heartbeats and turn suspect; it is still a source until gone.
  const others = (): Member[] => state.members().filter(m => !m.self && m.liveness !== 'gone')
  const holdersOf = (d: Digest, size: number): Array<{ m: Member, blob: HeldBlob }> =>
    others().flatMap(m => { const blob = heldBlob(m.record, d, size); return blob === undefined ? [] : [{ m, blob }] })
  return {
    client,
    bans: c.bans,
    seed: seedOf(state.selfId),
    selfId: state.selfId,
    peersFor: (d, size) => others().flatMap(m => viewOf(m, d, size) ?? []),
    chunkHolders: (d, index) => others().filter(m => { const b = heldBlob(m.record, d); return b !== undefined && holdsChunk(b, index) }).length,
    vouchers: (d, size, map) => holdersOf(d, size)
      .filter(({ blob }) => blob.chunkMap.byteLength > 0 && Buffer.compare(blob.chunkMap, map.bytes) === 0)
      .map(({ m }) => m.peerId),
    chunkMap: async (d, size, signal) => {
      for (const { m, blob } of holdersOf(d, size)) {
        if (blob.chunkMap.byteLength === 0) continue
        try {
          const map = await client.chunkMap(m.peerId, d, { signal, expectedCid: CID.decode(blob.chunkMap), expectedSize: size })
          if (map !== undefined) return map
        } catch {}
      }
      return undefined
    },
    manifestFor: async (name, signal) => {
      // The digest most recently pulled for this name anywhere in the cluster.
      const key = nameKey(name)
      const copies = (): Array<{ m: Member, h: NodeRecord['models'][number] }> =>
        others().flatMap(m => m.record.models.filter(h => modelKey(h.name) === key).map(h => ({ m, h })))
      const best = copies().sort((a, b) => Number(b.h.pulledAt - a.h.pulledAt) || (hex(b.h.manifestDigest) < hex(a.h.manifestDigest) ? -1 : 1))[0]
      if (best === undefined) return undefined
      const wanted = hex(best.h.manifestDigest)
      const digest = parseDigest(`sha256:${wanted}`)
      // A holder busy with a crowd's first chunks, or whose connection just dropped, may answer a
      // moment later: without the registry, giving up on it fails the pull (the last of 16 hosts
      // to ask, now and then). Holders come from the records each round; one that sent bad bytes,
      // or no longer holds it, is not asked again.
      const until = clock.now() + manifestRetryMs
      const skip = new Set<string>()
      let last = 'none is live'
      for (let wait = MANIFEST_RETRY_MS; ; wait = Math.min(wait * 2, MANIFEST_RETRY_MAX_MS)) {
        let again = false
        for (const { m } of copies().filter(x => hex(x.h.manifestDigest) === wanted && !skip.has(x.m.peerId))) {
          try {
            const bytes = await client.manifest(m.peerId, digest, { signal })
            if (bytes !== undefined) return { bytes: Buffer.from(bytes), manifest: parseManifest(bytes), digest }
            last = `${m.peerId} no longer holds it`
            skip.add(m.peerId)
          } catch (e) {
            if (signal?.aborted === true) throw signal.reason
            last = errorMessage(e)
            if (isOllamadError(e, 'PEER_BUSY') || isOllamadError(e, 'PEER_UNAVAILABLE') || isOllamadError(e, 'STALLED')) again = true
            else skip.add(m.peerId)
          }
        }
        if (!again || clock.now() + wait > until) break
        await sleep(clock, wait, signal)
      }
      throw new OllamadError('REGISTRY_UNREACHABLE', `no holder of ${name.model}:${name.tag} gave its manifest (${last})`)
    },
    saveChunkMap: async (d, size, chain) => { await maps.save(d, size, chain) },
    registryOwner: (d, size, index, targets) => {
      const key = `${d}/${index}/${targets.join()}`
      let order = orders.get(key)
      if (order === undefined) {
        order = ownerOrder(d, index, targets)
        if (orders.size > 100_000) orders.clear()
        orders.set(key, order)
      }
      return isRegistryOwner({ selfId: state.selfId, order, grewAt: (peer) => grewAt(peer, d, size), now: clock.now(), takeoverMs })
    }
  }
}

/** No swarm: no peers hold anything, and every blob comes from the registry. */
export const noSwarm: SwarmAccess = {
  peersFor: () => [],
  chunkHolders: () => 0,
  chunkMap: async () => undefined,
  vouchers: () => [],
  manifestFor: async () => undefined,
  saveChunkMap: async () => {},
  client: noPeers,
  // A table of its own, so a download given peers through a copy of this one still bans bad ones.
  bans: createBans(systemClock),
  seed: 0
}
