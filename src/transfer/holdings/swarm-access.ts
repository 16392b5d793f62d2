import type { Digest, ModelName, ChunkMap } from '../../store/index.js'
import type { FetchedManifest } from '../../registry/index.js'
import type { BlobClient } from '../protocol/client.js'
import type { PeerView } from '../download/peer-state.js'

/**
 * What a pull needs from the cluster: who holds chunks of a blob, its chunk map, a manifest when
 * the registry cannot give it, and a place to record the chunk maps this node makes.
 */
export interface SwarmAccess {
  peersFor: (d: Digest, size: number) => PeerView[]
  chunkMap: (d: Digest, size: number, signal?: AbortSignal) => Promise<ChunkMap | undefined>
  /** The cluster's current manifest for a name: the digest most recently pulled anywhere. */
  manifestFor: (name: ModelName, signal?: AbortSignal) => Promise<FetchedManifest | undefined>
  saveChunkMap: (d: Digest, size: number, hashes: Uint8Array[]) => Promise<void>
  /**
   * In a pull by many nodes at once, whether this node is the upstream owner of a chunk: first in
   * rendezvous order among the targets, or next after owners that are gone or make no progress.
   */
  registryOwner?: (d: Digest, size: number, index: number, targets: readonly string[]) => boolean
  client: BlobClient
  /** Peers banned until a time (ms), shared by every download. */
  bans: Map<string, number>
  seed: number
  /** This node's peer id. */
  selfId?: string
}

/** No swarm: every blob comes from the registry. */
export const noSwarm: SwarmAccess = {
  peersFor: () => [],
  chunkMap: async () => undefined,
  manifestFor: async () => undefined,
  saveChunkMap: async () => {},
  client: undefined as unknown as BlobClient,
  bans: new Map(),
  seed: 0
}
