/** An AbortController that also follows `parent`; `release` unhooks it. */
export function linkedController (parent?: AbortSignal): { ac: AbortController, release: () => void } {
  const ac = new AbortController()
  if (parent === undefined) return { ac, release: () => {} }
  const onAbort = (): void => { ac.abort(parent.reason) }
  if (parent.aborted) onAbort()
  else parent.addEventListener('abort', onAbort, { once: true })
  return { ac, release: () => { parent.removeEventListener('abort', onAbort) } }
}
