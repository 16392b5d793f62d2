import type { PartialBlob } from '../store/index.js'

/**
 * Verified blobs staged by pulls that wait for the rest of their model, still served to peers (a
 * cluster pull needs them). Two pulls that share a layer stage one partial: it stays held, and
 * open, until the last of them lets go.
 */
export interface HeldBlobs {
  /** A pull staged `p`. */
  stage: (p: PartialBlob) => void
  /** A pull lets go of what it staged; returns those no pull holds any more (a failed pull closes them). */
  release: (staged: readonly PartialBlob[]) => PartialBlob[]
  has: (digest: string) => boolean
  all: () => PartialBlob[]
}

export function createHeldBlobs (onRelease: (digest: string) => void): HeldBlobs {
  const held = new Map<string, { partial: PartialBlob, pulls: number }>()
  return {
    stage: (p) => {
      const h = held.get(p.digest)
      if (h?.partial === p) h.pulls++
      else held.set(p.digest, { partial: p, pulls: 1 })
    },
    release: (staged) => {
      const free: PartialBlob[] = []
      for (const p of staged) {
        const h = held.get(p.digest)
        if (h?.partial !== p) { free.push(p); continue }
        if (--h.pulls > 0) continue
        held.delete(p.digest)
        onRelease(p.digest)
        free.push(p)
      }
      return free
    },
    has: (digest) => held.has(digest),
    all: () => [...held.values()].map(h => h.partial)
  }
}
