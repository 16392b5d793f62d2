import { OllamadError } from '../errors.js'
import type { Clock, Timer } from './clock.js'

/** At most `size` holders at once; the rest wait in arrival order. */
export interface Slots {
  /**
   * Resolves to a release function once a slot is free, or to undefined if none frees within
   * `waitMs`. Rejects with ABORTED when `signal` aborts while waiting.
   */
  acquire: (waitMs: number, signal?: AbortSignal) => Promise<(() => void) | undefined>
  /** Holders now, and waiters. */
  stats: () => { held: number, waiting: number }
}

interface Waiter { grant: (release: (() => void) | undefined) => void, timer?: Timer, drop: () => void }

export function createSlots (size: number, clock: Clock): Slots {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('slots need a size of at least 1')
  let held = 0
  const queue: Waiter[] = []

  const makeRelease = (): (() => void) => {
    let done = false
    return () => {
      if (done) return
      done = true
      const next = queue.shift()
      if (next === undefined) { held--; return }
      next.drop()
      next.grant(makeRelease()) // the slot passes straight to the next waiter
    }
  }

  return {
    acquire: async (waitMs, signal) => {
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
