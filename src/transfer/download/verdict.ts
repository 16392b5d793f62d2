import { timingSafeEqual } from 'node:crypto'

/** What became of a chunk that arrived, before anything is written. */
export type ChunkVerdict =
  /** Written, and `checked` says against what. */
  | { kind: 'accept', checked: 'map' | 'announced' | 'none' }
  /** A peer's chunk that does not match its hash: the peer is banned. */
  | { kind: 'ban' }
  /** A peer's chunk with nothing to check it against: never taken. */
  | { kind: 'reject' }
  /** The registry's chunk does not match the chunk map: the download fails. */
  | { kind: 'fatal' }

export interface ChunkCheck {
  /** From a peer (else from the registry). */
  fromPeer: boolean
  /** Whether the bytes fit the chunk map's sha256 chain, when the download has a map. */
  fitsMap?: boolean
  /** Without a map: sha256 of the bytes that arrived, and the hash the peer announced with its bitmap. */
  hash?: Uint8Array
  announced?: Uint8Array
}

export const sameHash = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && timingSafeEqual(a, b)

/**
 * The chunk rule (ARCHITECTURE.md, content addressing): with a chunk map a chunk must fit it;
 * without one a peer's chunk must match what that peer announced, and the registry's is taken
 * as it is (the whole-blob sha256 judges it later).
 */
export function chunkVerdict (c: ChunkCheck): ChunkVerdict {
  if (c.fitsMap !== undefined) return c.fitsMap ? { kind: 'accept', checked: 'map' } : c.fromPeer ? { kind: 'ban' } : { kind: 'fatal' }
  if (!c.fromPeer) return { kind: 'accept', checked: 'none' }
  if (c.announced === undefined) return { kind: 'reject' }
  return c.hash !== undefined && sameHash(c.hash, c.announced) ? { kind: 'accept', checked: 'announced' } : { kind: 'ban' }
}
