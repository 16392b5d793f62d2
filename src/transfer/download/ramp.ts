import type { Clock, Timer } from '../../util/clock.js'

export interface RampInit {
  /** Requests to start with. */
  initial: number
  /** The most requests at once (the `--concurrency` setting). */
  max: number
  /** How often the rate is judged. */
  intervalMs: number
  /** A request this fast (bytes per second) is not held back by its connection: more would not help. */
  fastPerRequest: number
}

/**
 * How many parallel requests a registry download keeps. It starts with a few, and doubles them
 * while each request is slow (a far registry, or a CDN that caps each connection) and the last
 * doubling paid off; it settles once requests are fast, a doubling did not pay, or the limit is
 * reached. Near the registry a few requests fill the link, and more only cost the
 * registry a request each and leave the in-order hasher further behind.
 */
export interface Ramp {
  /** Requests the download should run now. */
  count: () => number
  /** Whether the count is final: the limit reached, a doubling that did not pay, or requests fast enough. */
  settled: () => boolean
  stop: () => void
}

/** A doubling must raise the rate by this much to go on doubling. */
const PAYS = 1.15

export function startRamp (clock: Clock, init: RampInit, bytes: () => number, grow: (more: number) => void): Ramp {
  let count = Math.max(1, Math.min(init.initial, init.max))
  let timer: Timer | undefined
  let lastBytes = bytes()
  let rateBefore: number | undefined
  let settled = count >= init.max

  const judge = (): void => {
    timer = undefined
    const now = bytes()
    const rate = (now - lastBytes) * 1000 / init.intervalMs
    lastBytes = now
    if ((rateBefore !== undefined && rate < rateBefore * PAYS) || rate / count >= init.fastPerRequest) { settled = true; return }
    const more = Math.min(count, init.max - count)
    rateBefore = rate
    count += more
    grow(more)
    if (count < init.max) timer = clock.setTimeout(judge, init.intervalMs)
    else settled = true
  }
  if (!settled) timer = clock.setTimeout(judge, init.intervalMs)

  return {
    count: () => count,
    settled: () => settled,
    stop: () => {
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
    }
  }
}
