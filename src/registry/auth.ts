import { OllamadError, throwIfAborted } from '../errors.js'
import { httpRequest, readBody } from './http.js'
import type { Clock } from '../util/clock.js'

export interface BearerChallenge { realm: string, service?: string, scope?: string }

/** Parses `Bearer realm="...",service="...",scope="..."`; undefined for other schemes. */
export function parseChallenge (header: string | undefined): BearerChallenge | undefined {
  if (header === undefined) return undefined
  const m = /^\s*Bearer\s+(.*)$/i.exec(header)
  if (m === null) return undefined
  const params: Record<string, string> = {}
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g
  for (let p = re.exec(m[1] as string); p !== null; p = re.exec(m[1] as string)) {
    params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '')
  }
  if (params.realm === undefined) return undefined
  return { realm: params.realm, service: params.service, scope: params.scope }
}

const MAX_TOKEN_RESPONSE = 1024 * 1024

/** Fetches bearer tokens for challenges and caches them until shortly before they expire. */
export interface TokenCache {
  token: (c: BearerChallenge, signal?: AbortSignal) => Promise<string>
  forget: (c: BearerChallenge) => void
}

/** Waits for a shared promise, giving up (for this caller only) when its signal fires. */
async function abortable<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await p
  throwIfAborted(signal)
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new OllamadError('ABORTED', 'request aborted', { cause: signal.reason })) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

export function createTokenCache (clock: Clock): TokenCache {
  const cache = new Map<string, { token: string, expires: number }>()
  const inflight = new Map<string, Promise<string>>()
  const keyOf = (c: BearerChallenge): string => `${c.realm}\n${c.service ?? ''}\n${c.scope ?? ''}`

  const fetchToken = async (c: BearerChallenge, key: string): Promise<string> => {
    let url: URL
    try { url = new URL(c.realm) } catch { throw new OllamadError('REGISTRY_AUTH', `invalid auth realm ${c.realm.slice(0, 200)}`) }
    if (c.service !== undefined) url.searchParams.set('service', c.service)
    if (c.scope !== undefined) url.searchParams.set('scope', c.scope)
    const res = await httpRequest(url, { timeoutMs: 30_000 })
    const body = await readBody(res, MAX_TOKEN_RESPONSE)
    if (res.statusCode !== 200) throw new OllamadError('REGISTRY_AUTH', `token request to ${url.host} failed with status ${res.statusCode ?? 0}`)
    let parsed: { token?: unknown, access_token?: unknown, expires_in?: unknown }
    try { parsed = JSON.parse(body.toString('utf8')) } catch { throw new OllamadError('REGISTRY_AUTH', `token response from ${url.host} is not JSON`) }
    const token = typeof parsed.token === 'string' ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : undefined
    if (token === undefined || token.length === 0) throw new OllamadError('REGISTRY_AUTH', `token response from ${url.host} has no token`)
    const ttl = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60
    // Refresh a little early so a token does not expire in the middle of a request.
    cache.set(key, { token, expires: clock.now() + Math.max(1, ttl - 10) * 1000 })
    return token
  }

  return {
    forget: (c) => { cache.delete(keyOf(c)) },
    token: async (c, signal) => {
      const key = keyOf(c)
      const hit = cache.get(key)
      if (hit !== undefined && hit.expires > clock.now()) return hit.token
      // Parallel requests share one fetch, run without any caller's signal so one abort fails no other.
      let p = inflight.get(key)
      if (p === undefined) {
        p = fetchToken(c, key).finally(() => { inflight.delete(key) })
        inflight.set(key, p)
      }
      return await abortable(p, signal)
    }
  }
}
