import { OllamadError } from '../errors.js'
import type { Clock, Timer } from './clock.js'

/** At most `size` holders at once; the rest wait, lowest rank first, then in arrival order. */
export interface Slots {
  /**
   * Resolves to a release function once a slot is free, or to undefined if none frees within
   * `waitMs`. Rejects with ABORTED when `signal` aborts while waiting. `rank` is asked each time
   * a slot frees (what it measures may change while waiting). @default rank 0
   */
  acquire: (waitMs: number, signal?: AbortSignal, rank?: () => number) => Promise<(() => void) | undefined>
  /** Holders now, and waiters. */
  stats: () => { held: number, waiting: number }
}

interface Waiter { grant: (release: (() => void) | undefined) => void, timer?: Timer, drop: () => void, rank?: () => number }

/** A waiter's rank now; one that cannot tell counts as 0, so a release never fails. */
const rankOf = (w: Waiter): number => {
  try {
    const r = w.rank?.() ?? 0
    return Number.isNaN(r) ? 0 : r
  } catch {
    return 0
  }
}

/** The waiter to go next: the lowest rank, the earliest among equals. */
const nextOf = (queue: Waiter[]): number => {
  let best = 0
  let bestRank = Infinity
  for (let i = 0; i < queue.length; i++) {
    const r = rankOf(queue[i] as Waiter)
    if (r < bestRank) { best = i; bestRank = r }
  }
  return best
}

export function createSlots (size: number, clock: Clock): Slots {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('slots need a size of at least 1')
  let held = 0
  const queue: Waiter[] = []

  const makeRelease = (): (() => void) => {
    let done = false
    return () => {
      if (done) return
      done = true
      const next = queue.length > 0 ? queue.splice(nextOf(queue), 1)[0] : undefined
      if (next === undefined) { held--; return }
      next.drop()
      next.grant(makeRelease()) // the slot passes straight to the next waiter
    }
  }

  return {
    acquire: async (waitMs, signal, rank) => {
      if (signal?.aborted === true) throw new OllamadError('ABORTED', 'aborted while waiting for a slot', { cause: signal.reason })
      if (held < size) { held++; return makeRelease() }
      return await new Promise((resolve, reject) => {
        const onAbort = (): void => { leave(); reject(new OllamadError('ABORTED', 'aborted while waiting for a slot', { cause: signal?.reason })) }
        const leave = (): void => {
          const i = queue.indexOf(w)
          if (i >= 0) queue.splice(i, 1)
          w.drop()
        }
        const w: Waiter = {
          rank,
          grant: resolve,
          drop: () => {
            if (w.timer !== undefined) clock.clearTimeout(w.timer)
            signal?.removeEventListener('abort', onAbort)
          }
        }
        w.timer = clock.setTimeout(() => { leave(); resolve(undefined) }, waitMs)
        signal?.addEventListener('abort', onAbort, { once: true })
        queue.push(w)
      })
    },
    stats: () => ({ held, waiting: queue.length })
  }
}
