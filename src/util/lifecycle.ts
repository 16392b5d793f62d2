/** A part with a life of its own: built first, then started in order and stopped in reverse. */
export interface Startable {
  start: () => void | Promise<void>
  stop: () => void | Promise<void>
}

/**
 * Starts parts in order; when one fails, the ones already started are stopped (in reverse) and
 * the failure is thrown. Returns a stop for all of them, which runs once.
 */
export async function startInOrder (parts: Startable[]): Promise<() => Promise<void>> {
  const started: Startable[] = []
  const stop = async (): Promise<void> => {
    for (const p of started.splice(0).reverse()) await p.stop()
  }
  try {
    for (const p of parts) {
      await p.start()
      started.push(p)
    }
  } catch (e) {
    await stop().catch(() => {})
    throw e
  }
  return stop
}
