import { OllamadError } from '../errors.js'

/** A fully qualified model name: host/namespace/model:tag. */
export interface ModelName {
  host: string
  namespace: string
  model: string
  tag: string
}

export const DEFAULT_HOST = 'registry.ollama.ai'
export const DEFAULT_NAMESPACE = 'library'
export const DEFAULT_TAG = 'latest'

type Part = 'host' | 'namespace' | 'model' | 'tag'

const MAX_LEN: Record<Part, number> = { host: 350, namespace: 80, model: 80, tag: 80 }
const WORD = /^[A-Za-z0-9_]$/

/** Ollama's per-part rule: first char [A-Za-z0-9_], then also '-', '.', and ':' in hosts only; no '.' in namespaces. */
function isValidPart (kind: Part, s: string): boolean {
  if (s.length < 1 || s.length > MAX_LEN[kind]) return false
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (WORD.test(c)) continue
    if (i === 0) return false
    if (c === '-' || (c === '_')) continue
    if (c === '.' && kind !== 'namespace') continue
    if (c === ':' && kind === 'host') continue
    return false
  }
  // '.' and '..' would be path traversal once the name becomes a manifest path.
  return s !== '.' && s !== '..'
}

/**
 * Parses `[scheme://][host/][namespace/]model[:tag]` as Ollama does and fills in the defaults.
 * Throws INVALID_NAME for anything Ollama would refuse; the result is safe to use as a path.
 */
export function parseModelName (input: unknown): ModelName {
  if (typeof input !== 'string' || input.length === 0) throw new OllamadError('INVALID_NAME', 'invalid model name')
  let s = input
  // Parts are bounded one by one below; this only keeps absurd inputs from being scanned.
  if (s.length > 1024) throw bad(input)
  let tag: string | undefined
  // '/' is not legal in a tag, so a ':' after the last '/' starts the tag.
  if (s.lastIndexOf(':') > s.lastIndexOf('/')) {
    const i = s.lastIndexOf(':')
    tag = s.slice(i + 1)
    s = s.slice(0, i)
  }
  const parts = s.split('/')
  let host: string | undefined
  let namespace: string | undefined
  let model: string
  if (parts.length === 1) {
    model = parts[0] as string
  } else if (parts.length === 2) {
    [namespace, model] = parts as [string, string]
  } else {
    model = parts.pop() as string
    namespace = parts.pop() as string
    host = parts.join('/')
    const scheme = host.indexOf('://')
    if (scheme >= 0) host = host.slice(scheme + 3)
  }
  const name: ModelName = {
    host: host ?? DEFAULT_HOST,
    namespace: namespace ?? DEFAULT_NAMESPACE,
    model,
    tag: tag ?? DEFAULT_TAG
  }
  for (const k of ['host', 'namespace', 'model', 'tag'] as const) {
    if (!isValidPart(k, name[k])) throw bad(input)
  }
  return name
}

const bad = (input: string): OllamadError =>
  new OllamadError('INVALID_NAME', `invalid model name: ${JSON.stringify(input.slice(0, 200))}`)

export function isValidModelName (input: unknown): boolean {
  try { parseModelName(input); return true } catch { return false }
}

/** The shortest display form, as Ollama lists names: defaults left out, tag kept. */
export function displayName (n: ModelName): string {
  if (n.host.toLowerCase() === DEFAULT_HOST) {
    if (n.namespace.toLowerCase() === DEFAULT_NAMESPACE) return `${n.model}:${n.tag}`
    return `${n.namespace}/${n.model}:${n.tag}`
  }
  return `${n.host}/${n.namespace}/${n.model}:${n.tag}`
}

export const fullName = (n: ModelName): string => `${n.host}/${n.namespace}/${n.model}:${n.tag}`

/** Names compare without case, as in Ollama. */
export const nameKey = (n: ModelName): string => fullName(n).toLowerCase()

/** The key of a name as it arrives (a record, a request); undefined when it does not parse. */
export function modelKey (raw: string): string | undefined {
  try { return nameKey(parseModelName(raw)) } catch { return undefined }
}

/** Path parts under manifests/, from an already validated name. */
export const manifestPathParts = (n: ModelName): [string, string, string, string] =>
  [n.host, n.namespace, n.model, n.tag]
