import { createHash } from 'node:crypto'
import type { Digest } from '../../store/index.js'

/** An upstream owner whose copy of a blob has not grown for this long is passed over for the next. */
export const OWNER_TAKEOVER_MS = 15_000

/** Rank of a target for one chunk of a blob (rendezvous: highest first). */
const rank = (d: Digest, index: number, peer: string): string => createHash('sha256').update(`${d}/${index}/${peer}`).digest('hex')

/** The targets of a cluster pull in the order they own chunk `index` of `d` upstream. */
export function ownerOrder (d: Digest, index: number, targets: readonly string[]): string[] {
  return [...targets].sort((a, b) => rank(d, index, a) < rank(d, index, b) ? 1 : -1)
}

export interface OwnerInput {
  selfId: string
  /** The pull's targets in owner order for the chunk. */
  order: readonly string[]
  /** When a target's copy of the blob last grew, on the clock; undefined for a target that is gone. */
  grewAt: (peer: string) => number | undefined
  now: number
  takeoverMs: number
}

/**
 * In a pull by many nodes at once, whether this node takes a chunk from the registry: it comes
 * first in owner order, or every target ahead of it is gone or has stopped growing its copy.
 * A node that is no target at all takes it too.
 */
export function isRegistryOwner (o: OwnerInput): boolean {
  for (const t of o.order) {
    if (t === o.selfId) return true
    const at = o.grewAt(t)
    if (at !== undefined && o.now - at < o.takeoverMs) return false
  }
  return true
}
