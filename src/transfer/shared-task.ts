import { OllamadError } from '../errors.js'

/**
 * One piece of work that several callers wait on: each caller has its own signal, and the work
 * is cancelled only when every caller has gone. Events go to every caller, and a caller that
 * joins late first gets the latest event of each kind.
 */
export interface SharedTask<T, E> {
  join: (onEvent: ((e: E) => void) | undefined, signal?: AbortSignal) => Promise<T>
  done: Promise<T>
}

export function createSharedTask<T, E> (
  run: (emit: (e: E) => void, signal: AbortSignal) => Promise<T>,
  keyOfEvent: (e: E) => string,
  onSettled: () => void
): SharedTask<T, E> {
  const ac = new AbortController()
  const listeners = new Set<(e: E) => void>()
  const latest = new Map<string, E>()
  let waiters = 0
  const emit = (e: E): void => {
    latest.delete(keyOfEvent(e))
    latest.set(keyOfEvent(e), e)
    for (const l of listeners) l(e)
  }
  const done = run(emit, ac.signal).finally(onSettled)
  done.catch(() => {})
  return {
    done,
    join: async (onEvent, signal) => {
      if (signal?.aborted === true) throw new OllamadError('ABORTED', 'aborted')
      waiters++
      if (onEvent !== undefined) {
        for (const e of latest.values()) onEvent(e)
        listeners.add(onEvent)
      }
      let onAbort: (() => void) | undefined
      try {
        return await new Promise<T>((resolve, reject) => {
          done.then(resolve, reject)
          onAbort = () => { reject(new OllamadError('ABORTED', 'aborted')) }
          signal?.addEventListener('abort', onAbort, { once: true })
        })
      } finally {
        if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
        if (onEvent !== undefined) listeners.delete(onEvent)
        if (--waiters === 0) ac.abort(new OllamadError('ABORTED', 'every caller went away'))
      }
    }
  }
}
