/**
 * A download that began before any chunk map existed checks chunks against their announced
 * hashes; once a peer that finished the blob offers its map, every later chunk is checked
 * against the map instead.
 */
export interface MapWatch {
  /** The per-chunk sha256 from the chunk map, once known. */
  hashes: () => Uint8Array[] | undefined
  /** Looks for the map (at most every refreshMs) when a peer offers one; `found` runs when the look ends. */
  look: (now: number, offered: () => boolean, signal: AbortSignal, found: () => void) => void
}

export function createMapWatch (findMap: ((signal: AbortSignal) => Promise<Uint8Array[] | undefined>) | undefined, init: { chunks: number, refreshMs: number, hashes?: Uint8Array[] }): MapWatch {
  let hashes = init.hashes
  let looking = false
  let lastLook = -Infinity
  return {
    hashes: () => hashes,
    look: (now, offered, signal, found) => {
      if (hashes !== undefined || findMap === undefined || looking || now - lastLook < init.refreshMs || !offered()) return
      looking = true
      lastLook = now
      void findMap(signal).then(h => { if (h !== undefined && h.length === init.chunks && hashes === undefined) hashes = h }, () => {})
        .finally(() => { looking = false; found() })
    }
  }
}
