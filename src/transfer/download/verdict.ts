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
  /** sha256 of the bytes that arrived. */
  hash: Uint8Array
  /** From a peer (else from the registry). */
  fromPeer: boolean
  /** The chunk's hash from the chunk map, when the download has one. */
  mapHash?: Uint8Array
  /** The hash the peer announced with its bitmap (used only without a map). */
  announced?: Uint8Array
}

export const sameHash = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && timingSafeEqual(a, b)

/**
 * The chunk rule (ARCHITECTURE.md, content addressing): with a chunk map a chunk must match it;
 * without one a peer's chunk must match what that peer announced, and the registry's is taken
 * as it is (the whole-blob sha256 judges it later).
 */
export function chunkVerdict (c: ChunkCheck): ChunkVerdict {
  const want = c.mapHash ?? (c.fromPeer ? c.announced : undefined)
  if (want !== undefined && !sameHash(c.hash, want)) return c.fromPeer ? { kind: 'ban' } : { kind: 'fatal' }
  if (c.fromPeer && want === undefined) return { kind: 'reject' }
  return { kind: 'accept', checked: c.mapHash !== undefined ? 'map' : c.fromPeer ? 'announced' : 'none' }
}
