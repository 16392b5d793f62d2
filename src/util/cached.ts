import type { Clock } from './clock.js'

/** A value read at most once per `ms` (the read is shared while it runs); `invalidate` forces the next read. */
export interface Cached<T> {
  get: () => Promise<T>
  invalidate: () => void
}

export function cachedFor<T> (clock: Clock, ms: number, read: () => Promise<T>): Cached<T> {
  let last: { at: number, value: Promise<T> } | undefined
  return {
    get: async () => {
      if (last === undefined || clock.now() - last.at > ms) last = { at: clock.now(), value: read() }
      return await last.value
    },
    invalidate: () => { last = undefined }
  }
}
