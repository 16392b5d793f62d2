import { createHash, timingSafeEqual } from 'node:crypto'
import { OllamadError } from '../errors.js'

/**
 * What a route does, which decides who may call it:
 * - read: lists and reads (tags, show, ps, cluster views);
 * - infer: generate, chat, embed and the OpenAI routes;
 * - pull: fetch a model onto this node;
 * - write: change or send this node's models (delete, copy, create, push, blob uploads, verify);
 * - cluster: anything that changes more than this node (placement, cluster pull and delete, jobs,
 *   loads and unloads on other nodes);
 * - asset: the dashboard's static files, which hold no data: always open, so a browser (which
 *   cannot add the token to a page load) reaches the page that then asks for the token.
 */
export type Access = 'read' | 'infer' | 'pull' | 'write' | 'cluster' | 'asset'
export const ACCESS_CLASSES: readonly Access[] = ['read', 'infer', 'pull', 'write', 'cluster']

/** Open without the token on a loopback address: what Ollama opens to local processes. */
export const DEFAULT_OPEN_LOOPBACK: readonly Access[] = ['read', 'infer', 'pull', 'write']
/** Open without the token on an address the network reaches: what Ollama clients need to list and chat. */
export const DEFAULT_OPEN_NETWORK: readonly Access[] = ['read', 'infer']
/** Never open without the token where the network reaches: they delete, send models away, or change every node. */
export const NEVER_OPEN_ON_NETWORK: readonly Access[] = ['write', 'cluster']

/** Parses `--open read,infer,...` (or `none`). */
export function parseAccessList (text: string): Access[] {
  const items = text.split(',').map(s => s.trim().toLowerCase()).filter(s => s !== '')
  if (items.length === 1 && items[0] === 'none') return []
  for (const i of items) {
    if (!(ACCESS_CLASSES as readonly string[]).includes(i)) throw new Error(`--open takes ${ACCESS_CLASSES.join(', ')} or none, not ${JSON.stringify(i)}`)
  }
  return [...new Set(items)] as Access[]
}

export interface AccessPolicy {
  /** Route classes anyone who reaches the API may call. */
  open: ReadonlySet<Access>
  /** The bearer token every other call needs. */
  token: string
}

const digestOf = (s: string): Buffer => createHash('sha256').update(s).digest()

/**
 * Lets a call through, or throws UNAUTHORIZED. Open routes ignore the Authorization header:
 * OpenAI clients send their own API key there.
 */
export function createAuthorizer (policy: AccessPolicy): (access: Access, authorization: string | undefined) => void {
  const want = digestOf(policy.token)
  return (access, authorization) => {
    if (access === 'asset' || policy.open.has(access)) return
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    // Hashes of equal length, compared in constant time: the token's length does not leak either.
    if (m !== null && timingSafeEqual(digestOf(m[1] as string), want)) return
    throw new OllamadError('UNAUTHORIZED', m === null
      ? `unauthorized: this ${access} route needs the ollamad token (Authorization: Bearer TOKEN; the CLI takes $OLLAMAD_TOKEN or --token)`
      : 'unauthorized: wrong ollamad token')
  }
}
