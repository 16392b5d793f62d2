/**
 * Chunks this node is receiving right now, so it can pass one on while it still arrives (cut-through).
 *
 * Why: a chunk otherwise spreads only once whole, so when many nodes pull one blob from a single
 * holder, each new chunk waits a full chunk time per hop, and the last chunks the holder sends
 * leave a tail in which the other downloaders queue at the one node that has them. Relaying the
 * bytes as they come turns each hop into a short delay.
 *
 * Safety: a relay holds back the last bytes of a chunk until its own check of the chunk passed,
 * so a downstream peer never completes a chunk that this node found bad, and it checks the chunk
 * against the chunk map itself anyway. A chunk whose arrival fails ends every relay of it.
 */
import type { Digest } from '../../store/index.js'
import { createListeners } from '../../util/listeners.js'

export type ArrivalState = 'arriving' | 'landed' | 'failed'

/** The read side of one chunk in arrival: what a relay sees. */
export interface Arrival {
  readonly length: number
  /** Bytes received so far, from the start of the chunk. */
  readonly got: number
  readonly state: ArrivalState
  /** The chunk's buffer; bytes [0, got) are final. */
  readonly buf: Uint8Array
  /**
   * Marks a relay reading the buffer until the returned function is called, with `flushed` true
   * when every slice the relay wrote has left this process's queues (a data connection's writes
   * say so; a libp2p stream's do not). The download reuses the buffer only once every relay let
   * go with its slices gone: one still queued, unencrypted, would be overwritten by the next chunk.
   */
  pin: () => (flushed?: boolean) => void
  /** Resolves on the next progress or change of state (or at once if it is over). */
  changed: (signal?: AbortSignal) => Promise<void>
}

/** The write side, held by the download that fills the buffer. */
export interface ArrivalHandle {
  progress: (got: number) => void
  /** The chunk passed its check and was written. */
  land: () => void
  /**
   * The chunk landed from another request (`data`, checked): relays go on from a copy of it
   * rather than fail, and never read bytes of this request that were not checked.
   */
  landWith: (data: Uint8Array) => void
  fail: () => void
  /** Ends the arrival if still open; calls `fn` (to reuse the buffer) once no relay reads it, unless one let go with slices still queued. */
  release: (fn: () => void) => void
}

export interface Arrivals {
  /** Starts tracking chunk `index` of `d`, filling `buf`; undefined when that chunk already arrives. */
  begin: (d: Digest, index: number, buf: Uint8Array, length: number) => ArrivalHandle | undefined
  get: (d: Digest, index: number) => Arrival | undefined
  /** Indices of the chunks of `d` arriving now. */
  arriving: (d: Digest) => number[]
  /** Called when a chunk begins or ends arriving (for the node's record). */
  onChange: (fn: () => void) => () => void
}

class Entry implements Arrival {
  got = 0
  state: ArrivalState = 'arriving'
  pins = 0
  /** False once a relay let go while its slices may still be queued: the buffer is then never reused. */
  private reusable = true
  private onFree?: () => void
  private waiters: Array<() => void> = []

  constructor (public buf: Uint8Array, readonly length: number) {}

  pin (): (flushed?: boolean) => void {
    this.pins++
    let once = false
    return (flushed = false) => {
      if (once) return
      once = true
      this.pins--
      if (!flushed) this.reusable = false
      this.free()
    }
  }

  /** Hands the buffer back through `fn` once no relay reads it (at once if none does). */
  whenFree (fn: () => void): void {
    this.onFree = fn
    this.free()
  }

  private free (): void {
    const fn = this.onFree
    if (fn === undefined || this.pins > 0) return
    this.onFree = undefined
    if (this.reusable) fn()
  }

  async changed (signal?: AbortSignal): Promise<void> {
    if (this.state !== 'arriving') return
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal?.reason) }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(() => { signal?.removeEventListener('abort', onAbort); resolve() })
    })
  }

  notify (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

export function createArrivals (): Arrivals {
  /** Open arrivals only, by blob and chunk: an arrival leaves the moment it ends. */
  const blobs = new Map<Digest, Map<number, Entry>>()
  const listeners = createListeners()
  const changed = listeners.emit

  return {
    begin: (d, index, buf, length) => {
      let open = blobs.get(d)
      if (open?.has(index) === true || buf.byteLength < length) return undefined
      if (open === undefined) blobs.set(d, open = new Map())
      const e = new Entry(buf, length)
      open.set(index, e)
      changed()
      const end = (state: ArrivalState): void => {
        if (e.state !== 'arriving') return
        e.state = state
        open.delete(index)
        if (open.size === 0) blobs.delete(d)
        e.notify()
        changed()
      }
      return {
        progress: (got) => { if (e.state === 'arriving' && got > e.got) { e.got = Math.min(got, length); e.notify() } },
        land: () => { e.got = length; end('landed') },
        landWith: (data) => {
          if (e.state !== 'arriving') return
          // What relays already passed on came from this request: it must match the checked bytes,
          // or a peer that lost the race with bad bytes would get this node banned downstream.
          if (data.byteLength !== length || !sameBytes(e.buf.subarray(0, e.got), data.subarray(0, e.got))) { end('failed'); return }
          // Only relays still reading need the bytes (the request's buffer is never written again).
          if (e.pins > 0) e.buf = new Uint8Array(data)
          e.got = length
          end('landed')
        },
        fail: () => { end('failed') },
        release: (fn) => { end('failed'); e.whenFree(fn) }
      }
    },
    get: (d, index) => blobs.get(d)?.get(index),
    arriving: (d) => [...(blobs.get(d)?.keys() ?? [])],
    onChange: listeners.on
  }
}
