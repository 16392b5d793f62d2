/** Runs async sections one at a time, in arrival order. */
export interface Mutex { run: <T>(fn: () => Promise<T>) => Promise<T> }

export function createMutex (): Mutex {
  let tail: Promise<unknown> = Promise.resolve()
  return {
    run: async <T>(fn: () => Promise<T>): Promise<T> => {
      const next = tail.then(fn, fn)
      tail = next.catch(() => {})
      return await next
    }
  }
}
