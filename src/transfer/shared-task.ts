import { OllamadError } from '../errors.js'

/**
 * One piece of work that several callers wait on: each caller has its own signal, and the work
 * is cancelled only when every caller has gone. Events go to every caller, and a caller that
 * joins late first gets the latest event of each kind.
 */
export interface SharedTask<T, E> {
  join: (onEvent: ((e: E) => void) | undefined, signal?: AbortSignal) => Promise<T>
  done: Promise<T>
  /** Every caller left and the work was told to stop; it may still be unwinding. */
  readonly cancelled: boolean
}

/**
 * Joins the run kept under `key` in `runs`, or starts one with `start` (whose end must remove it).
 * A run every caller left may still be unwinding: it is waited out, not joined, or a client that
 * quits and pulls again at once would get the old run's "aborted".
 */
export async function joinRun<T, E> (runs: Map<string, SharedTask<T, E>>, key: string, start: () => SharedTask<T, E>, onEvent: ((e: E) => void) | undefined, signal?: AbortSignal): Promise<T> {
  let t = runs.get(key)
  while (t?.cancelled === true) {
    await t.done.catch(() => {})
    t = runs.get(key)
  }
  // A run starts when it is made: none may start for a caller that is already gone.
  if (signal?.aborted === true) throw new OllamadError('ABORTED', 'aborted')
  if (t === undefined) {
    t = start()
    runs.set(key, t)
  }
  return await t.join(onEvent, signal)
}

/**
 * `dispose` takes a result that came after every caller left (the work ended just as the last
 * one went): nobody can take it then, and what it holds (an open partial) would leak.
 */
export function createSharedTask<T, E> (
  run: (emit: (e: E) => void, signal: AbortSignal) => Promise<T>,
  keyOfEvent: (e: E) => string,
  onSettled: () => void,
  dispose?: (result: T) => Promise<void>
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
  const done = run(emit, ac.signal).then(async r => {
    if (!ac.signal.aborted || dispose === undefined) return r
    await dispose(r).catch(() => {})
    throw new OllamadError('ABORTED', 'every caller went away')
  }).finally(onSettled)
  done.catch(() => {})
  return {
    done,
    get cancelled () { return ac.signal.aborted },
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
