import type { Clock, Timer } from './clock.js'

/** Aborts when nothing happens for `ms`: each `kick` restarts the wait; `stop` disarms it until the next kick. */
export interface Watchdog { kick: () => void, stop: () => void }

export function watchdog (clock: Clock, ms: number, onFire: () => void): Watchdog {
  // A kick only notes the time (it runs for every piece of a chunk); the one timer re-arms itself
  // for what is left when it wakes early.
  let t: Timer | undefined
  let last = clock.now()
  const check = (): void => {
    const left = last + ms - clock.now()
    t = left > 0 ? clock.setTimeout(check, left) : undefined
    if (left <= 0) onFire()
  }
  const kick = (): void => {
    last = clock.now()
    t ??= clock.setTimeout(check, ms)
  }
  kick()
  return { kick, stop: () => { if (t !== undefined) clock.clearTimeout(t); t = undefined } }
}
