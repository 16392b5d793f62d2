/** The listeners of one kind of event: `on` adds one and returns the call that removes it. */
export interface Listeners<A extends unknown[]> {
  on: (listener: (...args: A) => void) => () => void
  emit: (...args: A) => void
}

export function createListeners<A extends unknown[] = []> (): Listeners<A> {
  const set = new Set<(...args: A) => void>()
  return {
    on: (l) => { set.add(l); return () => { set.delete(l) } },
    emit: (...args) => { for (const l of set) l(...args) }
  }
}
