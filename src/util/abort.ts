import { setMaxListeners } from 'node:events'

/**
 * Listeners a linked signal may have before Node warns of a leak. Such a signal is shared by the
 * requests of one task (a download's chunk requests, a registry fetch's range requests and their
 * HTTP clients), each of which listens while it runs: a few dozen at once is their design.
 */
const MAX_LINKED_LISTENERS = 256

/** An AbortController that also follows `parent`; `release` unhooks it. */
export function linkedController (parent?: AbortSignal): { ac: AbortController, release: () => void } {
  const ac = new AbortController()
  setMaxListeners(MAX_LINKED_LISTENERS, ac.signal)
  if (parent === undefined) return { ac, release: () => {} }
  const onAbort = (): void => { ac.abort(parent.reason) }
  if (parent.aborted) onAbort()
  else parent.addEventListener('abort', onAbort, { once: true })
  return { ac, release: () => { parent.removeEventListener('abort', onAbort) } }
}
