import { sleep, type Clock } from './clock.js'

/** Shares a byte rate among all callers; `take` waits until the bytes fit the rate. */
export interface RateLimiter {
  take: (bytes: number, signal?: AbortSignal) => Promise<void>
  /** Counts the bytes now and returns how long the caller owes (ms, 0 for none): hot paths skip the await. */
  reserve: (bytes: number) => number
}

/** A burst of this much time's worth of bytes passes without waiting. */
const BURST_MS = 50

export function createRateLimiter (clock: Clock, bytesPerSecond: number | undefined): RateLimiter {
  if (bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    return { take: async () => {}, reserve: () => 0 }
  }
  let next = 0
  const reserve = (bytes: number): number => {
    const now = clock.now()
    next = Math.max(next, now - BURST_MS) + bytes * 1000 / bytesPerSecond
    return Math.max(0, next - now - BURST_MS)
  }
  return {
    reserve,
    take: async (bytes, signal) => {
      const wait = reserve(bytes)
      if (wait > 0) await sleep(clock, wait, signal)
    }
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 }

/** Parses sizes like `500M`, `1.5GiB`, `100mb`; rates take the same form (bytes per second). */
export function parseSize (s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*(?:\/s)?\s*$/.exec(s)
  const mult = m !== null ? UNITS[(m[2] as string).toLowerCase()] : undefined
  if (m === null || mult === undefined) throw new Error(`invalid size: ${JSON.stringify(s)} (use e.g. 500M, 2GiB)`)
  return Math.floor(Number(m[1]) * mult)
}

/** The same limiter, telling `onBytes` of every byte that passes it (the metrics count traffic here). */
export function countingLimiter (inner: RateLimiter, onBytes: (n: number) => void): RateLimiter {
  return {
    take: async (bytes, signal) => { await inner.take(bytes, signal); onBytes(bytes) },
    reserve: (bytes) => { onBytes(bytes); return inner.reserve(bytes) }
  }
}
