import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { Intent, SignedIntent } from '../../proto/cluster.js'
import { OllamadError } from '../errors.js'
import { nameKey, parseModelName } from '../store/index.js'
import { MAX_INTENT_BYTES } from './constants.js'
import { openSigned, signBytes } from './signing.js'

export { Intent, SignedIntent }

const DOMAIN = new TextEncoder().encode('ollamad/intent/1:')

/**
 * What an intent says, by the kind in its key. Models are keyed by their lower-case full name
 * (names compare without case, as in Ollama); nodes by peer id. An empty value is a tombstone:
 * the key has no intent any more (and a later write may set it again).
 */
export type IntentBody =
  | { kind: 'replicas', model: string, replicas: number | 'all' }
  | { kind: 'pin', model: string, node: string }
  | { kind: 'migrate', model: string, from: string, to: string }
  | { kind: 'delete', model: string, digests: string[] }
  | { kind: 'placement', model: string, nodes: string[] }
  | { kind: 'job', id: string, model: string, targets: string[], insecure: boolean, createdAt: number, cancelled: boolean }
  /** Cache limits for one node, or for every node ('*'); bytes, 0 for none. They win over the node's flags. */
  | { kind: 'limits', node: string, maxCache: number, minFreeDisk: number }

export const MAX_REPLICAS = 1000
const MAX_TARGETS = 1000
/** Digests one cluster delete names at most (every version of a model the cluster holds). */
const MAX_DELETE_DIGESTS = 64
const JOB_ID = /^[0-9a-z]{8,32}$/

const invalid = (msg: string): OllamadError => new OllamadError('INVALID_REQUEST', `invalid intent: ${msg}`)

const modelKey = (s: string): string => {
  let k: string
  try { k = nameKey(parseModelName(s)) } catch { throw invalid(`bad model name ${JSON.stringify(s.slice(0, 100))}`) }
  if (k !== s) throw invalid(`model ${JSON.stringify(s.slice(0, 100))} is not in canonical form`)
  return k
}
const peer = (s: unknown): string => {
  if (typeof s !== 'string' || s.length > 128) throw invalid('bad peer id')
  try { return peerIdFromString(s).toString() } catch { throw invalid('bad peer id') }
}
const peers = (v: unknown): string[] => {
  if (!Array.isArray(v) || v.length > MAX_TARGETS) throw invalid('bad node list')
  const out = v.map(peer)
  if (new Set(out).size !== out.length) throw invalid('a node listed twice')
  return out
}

/** The key for an intent body (models in canonical form). */
export function intentKey (b: IntentBody): string {
  switch (b.kind) {
    case 'pin': return `pin/${b.model}/${b.node}`
    case 'job': return `job/${b.id}`
    case 'limits': return `limits/${b.node}`
    default: return `${b.kind}/${b.model}`
  }
}

/** The JSON value stored for a body: the fields its key does not already say. */
export function intentValue (b: IntentBody): string {
  switch (b.kind) {
    case 'replicas': return JSON.stringify({ replicas: b.replicas })
    case 'pin': return JSON.stringify({ pinned: true })
    case 'migrate': return JSON.stringify({ from: b.from, to: b.to })
    case 'delete': return JSON.stringify({ deleted: true, digests: b.digests })
    case 'placement': return JSON.stringify({ nodes: b.nodes })
    case 'limits': return JSON.stringify({ maxCache: b.maxCache, minFreeDisk: b.minFreeDisk })
    case 'job': return JSON.stringify({ model: b.model, targets: b.targets, insecure: b.insecure, createdAt: b.createdAt, cancelled: b.cancelled })
  }
}

/** Parses and checks a key and its value; undefined for a tombstone. Throws INVALID_REQUEST. */
export function parseIntent (key: string, value: string): IntentBody | undefined {
  const slash = key.indexOf('/')
  const kind = key.slice(0, slash)
  const rest = key.slice(slash + 1)
  if (slash <= 0 || rest.length === 0) throw invalid(`bad key ${JSON.stringify(key.slice(0, 100))}`)
  let body: IntentBody
  if (kind === 'pin') {
    const at = rest.lastIndexOf('/')
    body = { kind, model: modelKey(rest.slice(0, at)), node: peer(rest.slice(at + 1)) }
  } else if (kind === 'job') {
    if (!JOB_ID.test(rest)) throw invalid('bad job id')
    body = { kind, id: rest, model: '', targets: [], insecure: false, createdAt: 0, cancelled: false }
  } else if (kind === 'limits') {
    body = { kind, node: rest === '*' ? '*' : peer(rest), maxCache: 0, minFreeDisk: 0 }
  } else if (kind === 'replicas' || kind === 'migrate' || kind === 'delete' || kind === 'placement') {
    modelKey(rest)
    body = kind === 'replicas' ? { kind, model: rest, replicas: 1 } : kind === 'migrate' ? { kind, model: rest, from: '', to: '' } : kind === 'delete' ? { kind, model: rest, digests: [] } : { kind, model: rest, nodes: [] }
  } else {
    throw invalid(`unknown kind ${JSON.stringify(kind.slice(0, 40))}`)
  }
  if (value === '') return undefined
  let v: Record<string, unknown>
  try { v = JSON.parse(value) } catch { throw invalid('value is not JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('value is not an object')
  switch (body.kind) {
    case 'replicas':
      if (v.replicas !== 'all' && !(Number.isInteger(v.replicas) && (v.replicas as number) >= 1 && (v.replicas as number) <= MAX_REPLICAS)) throw invalid('replicas must be 1 to 1000 or "all"')
      return { ...body, replicas: v.replicas as number | 'all' }
    case 'pin': return body
    case 'delete': {
      // The manifest digests it deletes (hex); a delete from before they were named deletes nothing.
      const d = v.digests ?? []
      if (!Array.isArray(d) || d.length > MAX_DELETE_DIGESTS || d.some(x => typeof x !== 'string' || !/^[0-9a-f]{64}$/.test(x)) || new Set(d).size !== d.length) throw invalid('bad digest list')
      return { ...body, digests: d as string[] }
    }
    case 'migrate': {
      const from = peer(v.from)
      const to = peer(v.to)
      if (from === to) throw invalid('a migration to its own source')
      return { ...body, from, to }
    }
    case 'placement': return { ...body, nodes: peers(v.nodes) }
    case 'limits': {
      const bytes = (x: unknown): number => {
        if (x === undefined) return 0
        if (!Number.isSafeInteger(x) || (x as number) < 0) throw invalid('limits are whole numbers of bytes')
        return x as number
      }
      return { ...body, maxCache: bytes(v.maxCache), minFreeDisk: bytes(v.minFreeDisk) }
    }
    case 'job':
      if (typeof v.createdAt !== 'number' || !Number.isFinite(v.createdAt)) throw invalid('bad job time')
      return { ...body, model: modelKey(String(v.model)), targets: peers(v.targets), insecure: v.insecure === true, createdAt: v.createdAt, cancelled: v.cancelled === true }
  }
}

export async function signIntent (key: PrivateKey, intent: Intent): Promise<SignedIntent> {
  const bytes = Intent.encode(intent)
  if (bytes.byteLength > MAX_INTENT_BYTES) throw new OllamadError('SIZE_LIMIT', `intent of ${bytes.byteLength} bytes exceeds ${MAX_INTENT_BYTES}`)
  const s = await signBytes(key, DOMAIN, bytes)
  return { intent: s.bytes, signature: s.signature, publicKey: s.publicKey }
}

/** Decodes a signed intent, checks that its writer signed it and that its key and value are well formed. */
export async function verifyIntent (signed: SignedIntent): Promise<Intent> {
  const intent = await openSigned(DOMAIN, { bytes: signed.intent, signature: signed.signature, publicKey: signed.publicKey }, {
    maxBytes: MAX_INTENT_BYTES, decode: (b) => Intent.decode(b), author: (i) => i.writer, fail: invalid
  })
  parseIntent(intent.key, intent.value)
  return intent
}
