import type { Clock, Timer } from './clock.js'

/** Calls `fn` at most once per `ms`, trailing call included; `flush` runs a pending call now. */
export interface Throttled { (): void, flush: () => void, cancel: () => void }

export function throttle (clock: Clock, ms: number, fn: () => void): Throttled {
  let last = -Infinity
  let timer: Timer | undefined
  const run = (): void => {
    if (timer !== undefined) { clock.clearTimeout(timer); timer = undefined }
    last = clock.now()
    fn()
  }
  const t = (): void => {
    const wait = last + ms - clock.now()
    if (wait <= 0) { run(); return }
    timer ??= clock.setTimeout(run, wait)
  }
  t.flush = () => { if (timer !== undefined) run() }
  t.cancel = () => { if (timer !== undefined) { clock.clearTimeout(timer); timer = undefined } }
  return t
}
