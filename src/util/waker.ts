import type { Clock } from './clock.js'

/** Lets a loop sleep until a timer, a `wake` or the abort, whichever comes first. */
export interface Waker {
  /** Ends the current sleep, if one is running. */
  wake: () => void
  sleep: (ms: number) => Promise<void>
  /** Unhooks it from the signal. */
  dispose: () => void
}

export function createWaker (clock: Clock, signal: AbortSignal): Waker {
  let wakeUp: (() => void) | undefined
  const wake = (): void => { const w = wakeUp; wakeUp = undefined; w?.() }
  signal.addEventListener('abort', wake, { once: true })
  return {
    wake,
    sleep: async (ms) => {
      if (signal.aborted) return
      await new Promise<void>(resolve => {
        const t = Number.isFinite(ms) ? clock.setTimeout(wake, Math.max(0, ms)) : undefined
        wakeUp = () => { if (t !== undefined) clock.clearTimeout(t); resolve() }
      })
    },
    dispose: () => { signal.removeEventListener('abort', wake) }
  }
}
