/**
 * A download that began before any chunk map existed checks chunks against their announced
 * hashes; once a peer that finished the blob offers its map, every later chunk is checked
 * against the map instead.
 */
export interface MapWatch {
  /** The chunk map's sha256 chain, once known. */
  chain: () => Uint8Array[] | undefined
  /** Looks for the map (at most every refreshMs) when a peer offers one; `found` runs when the look ends. */
  look: (now: number, offered: () => boolean, signal: AbortSignal, found: () => void) => void
}

export function createMapWatch (findMap: ((signal: AbortSignal) => Promise<Uint8Array[] | undefined>) | undefined, init: { chunks: number, refreshMs: number, chain?: Uint8Array[] }): MapWatch {
  let chain = init.chain
  let looking = false
  let lastLook = -Infinity
  return {
    chain: () => chain,
    look: (now, offered, signal, found) => {
      if (chain !== undefined || findMap === undefined || looking || now - lastLook < init.refreshMs || !offered()) return
      looking = true
      lastLook = now
      void findMap(signal).then(h => { if (h !== undefined && h.length === init.chunks && chain === undefined) chain = h }, () => {})
        .finally(() => { looking = false; found() })
    }
  }
}
