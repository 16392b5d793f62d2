/** Time as a dependency, so tests can drive timeouts, backoff and rescans. */
export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => Timer
  clearTimeout: (t: Timer) => void
}

export interface Timer { unref?: () => unknown }

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => { clearTimeout(t as ReturnType<typeof setTimeout>) }
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason. */
export async function sleep (clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) throw signal.reason
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clock.clearTimeout(t); reject(signal?.reason) }
    const t = clock.setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
