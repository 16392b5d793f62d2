import type { Bitmap } from '../../util/bitmap.js'
import type { PickerPeer } from './picker.js'

/** What the cluster state says about one peer's copy of a blob. */
export interface PeerView {
  id: string
  bitmap: Bitmap
  /**
   * sha256 of chunks the peer announced with its bitmap, by index. Used only while no chunk map
   * exists: then a chunk is taken from a peer only against the hash it announced.
   */
  announced?: Map<number, Uint8Array>
  /** The peer offers the blob's chunk map (it holds the blob whole, or made the map). */
  hasMap?: boolean
  /** Chunks arriving at the peer now, which it relays as they come (taken only with a chunk map to check them). */
  arriving?: Bitmap
}

/** A failing peer rests this long at first, doubling per failure up to the ban time. */
export const COOLDOWN_BASE_MS = 1_000
/** Smoothing of the throughput average: the weight of the newest sample. */
const RATE_WEIGHT = 0.3

/** The downloader's own record of a peer: what it has, what it is doing, how it behaved. */
export class PeerState {
  readonly id: string
  view: PeerView
  /** The bitmap the peer itself reported (via `have`), merged with the view's. */
  reported?: Bitmap
  /** Chunks the peer said it does not hold, though a view said so, until its next report. */
  readonly denied = new Set<number>()
  /** Chunks shown arriving that the peer would not relay (the arrival ended first): asked again once held. */
  private readonly notRelayed = new Set<number>()
  inflight = 0
  failures = 0
  restUntil = 0
  /** Bytes per ms, smoothed; undefined until the first chunk arrives. */
  rate?: number
  refreshing = false
  /** Held the whole blob when this download first saw it: a first holder, whose uplink many downloaders share. */
  readonly seed: boolean

  constructor (view: PeerView) {
    this.id = view.id
    this.view = view
    this.seed = view.bitmap.full()
  }

  /** Whether the peer can serve chunk `i`: it holds it, or (if `relayOk`) relays it as it arrives there. */
  holds (i: number, needAnnounced: boolean, relayOk = true): boolean {
    if (this.denied.has(i)) return false
    if (!this.heldWhole(i)) return relayOk && !needAnnounced && this.view.arriving?.get(i) === true && !this.notRelayed.has(i)
    return !needAnnounced || this.view.announced?.has(i) === true
  }

  /** The peer has chunk `i` whole (not merely arriving). */
  heldWhole (i: number): boolean { return this.view.bitmap.get(i) || this.reported?.get(i) === true }

  /** A newer view of the peer; a chunk it would not relay may be asked again once a later arrival shows. */
  update (view: PeerView): void {
    this.view = view
    for (const i of [...this.notRelayed]) if (view.arriving?.get(i) !== true) this.notRelayed.delete(i)
  }

  /** The peer answered that it does not hold chunk `i`. */
  deny (i: number): void {
    if (this.heldWhole(i)) this.denied.add(i)
    else this.notRelayed.add(i)
  }

  complete (): boolean { return this.view.bitmap.full() || this.reported?.full() === true }

  report (bitmap: Bitmap): void {
    this.reported = bitmap
    for (const i of [...this.denied]) if (bitmap.get(i)) this.denied.delete(i)
  }

  sample (bytes: number, ms: number): void {
    const r = bytes / Math.max(1, ms)
    this.rate = this.rate === undefined ? r : this.rate * (1 - RATE_WEIGHT) + r * RATE_WEIGHT
  }

  /** Rests the peer after a failure, longer each time in a row, never past `maxMs`. */
  fail (now: number, maxMs: number): void {
    this.failures++
    this.restUntil = Math.max(this.restUntil, now + Math.min(maxMs, COOLDOWN_BASE_MS * 2 ** (this.failures - 1)))
  }

  /** A short rest that is no failure (the peer is busy). */
  rest (now: number): void { this.restUntil = Math.max(this.restUntil, now + COOLDOWN_BASE_MS) }

  succeed (): void { this.failures = 0 }

  asPicker (now: number, bannedUntil: number | undefined, needAnnounced: boolean, present: boolean, relayOk: (i: number) => boolean = () => true): PickerPeer {
    return {
      id: this.id,
      has: (i) => this.holds(i, needAnnounced, relayOk(i)),
      inflight: this.inflight,
      banned: !present || (bannedUntil !== undefined && bannedUntil > now),
      resting: this.restUntil > now,
      rate: this.rate
    }
  }
}
