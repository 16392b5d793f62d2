import { hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'

/**
 * Ollama's default browser origins: local pages on any port, desktop shells and editors, and
 * browser extensions. `OLLAMA_ORIGINS` (and --origins) add to them; `*` in a pattern matches
 * any run of characters, and `*` alone allows every origin.
 */
const DEFAULT_ORIGINS = [
  ...['localhost', '127.0.0.1', '0.0.0.0'].flatMap(h => [`http://${h}`, `https://${h}`, `http://${h}:*`, `https://${h}:*`]),
  'app://*', 'file://*', 'tauri://*', 'vscode-webview://*', 'vscode-file://*',
  'chrome-extension://*', 'moz-extension://*', 'safari-web-extension://*'
]

/** Headers a browser may send cross-origin: Ollama's, and those OpenAI's clients add. */
const ALLOWED_HEADERS = [
  'Authorization', 'Content-Type', 'User-Agent', 'Accept', 'X-Requested-With',
  'OpenAI-Beta', 'X-Stainless-Arch', 'X-Stainless-Async', 'X-Stainless-Custom-Poll-Interval',
  'X-Stainless-Helper-Method', 'X-Stainless-Lang', 'X-Stainless-OS', 'X-Stainless-Package-Version',
  'X-Stainless-Poll-Helper', 'X-Stainless-Retry-Count', 'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version', 'X-Stainless-Timeout'
]
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS'

const matcher = (pattern: string): (origin: string) => boolean => {
  const star = pattern.indexOf('*')
  if (star < 0) return (o) => o === pattern
  const head = pattern.slice(0, star)
  const tail = pattern.slice(star + 1)
  return (o) => o.length >= head.length + tail.length && o.startsWith(head) && o.endsWith(tail)
}

/** Origins from a comma-separated list such as OLLAMA_ORIGINS. */
export const parseOrigins = (text: string | undefined): string[] =>
  (text ?? '').split(',').map(s => s.trim()).filter(s => s !== '')

export interface OriginPolicy {
  allowed: (origin: string) => boolean
}

export function createOriginPolicy (extra: readonly string[]): OriginPolicy {
  const all = [...DEFAULT_ORIGINS, ...extra].map(p => p.toLowerCase())
  if (all.includes('*')) return { allowed: () => true }
  const tests = all.map(matcher)
  return { allowed: (origin) => tests.some(t => t(origin.toLowerCase())) }
}

/** The headers that let an allowed page read an answer, or ask first (a preflight). */
export function corsHeaders (origin: string, preflight: boolean, requested?: string): Record<string, string> {
  const h: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }
  if (!preflight) return h
  const wanted = (requested ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
  const known = new Set(ALLOWED_HEADERS.map(x => x.toLowerCase()))
  return {
    ...h,
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    'Access-Control-Allow-Headers': [...ALLOWED_HEADERS, ...wanted.filter(w => known.has(w.toLowerCase()))].join(', '),
    'Access-Control-Max-Age': String(12 * 3600)
  }
}

/** The host part of a Host header: `name`, `name:port`, `[v6]:port`. */
export function hostOfHeader (header: string): string {
  const v6 = /^\[([^\]]+)\](?::\d*)?$/.exec(header)
  if (v6 !== null) return (v6[1] as string).toLowerCase()
  const i = header.lastIndexOf(':')
  return (i >= 0 && header.indexOf(':') === i ? header.slice(0, i) : header).toLowerCase()
}

const isLoopbackIp = (ip: string): boolean => ip.startsWith('127.') || ip === '::1' || ip === '::ffff:127.0.0.1'
const isPrivateIp = (ip: string): boolean =>
  /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/.test(ip) || /^f[cd][0-9a-f]{2}:/i.test(ip) || /^fe80:/i.test(ip)

export const isLoopbackHost = (host: string): boolean => host === 'localhost' || (isIP(host) !== 0 && isLoopbackIp(host))

/**
 * Whether a Host header names this machine, as Ollama judges it for a server on a loopback
 * address: a page whose own DNS name was rebound to 127.0.0.1 names a host of its own, and is
 * refused. IP literals that are loopback, private, unspecified or this machine's pass, as do
 * `localhost`, this hostname, and names under .localhost, .local and .internal.
 */
export function hostAllowed (header: string | undefined): boolean {
  if (header === undefined || header === '') return true
  const host = hostOfHeader(header)
  if (isIP(host) !== 0) {
    if (isLoopbackIp(host) || isPrivateIp(host) || host === '0.0.0.0' || host === '::') return true
    return Object.values(networkInterfaces()).some(list => list?.some(a => a.address.toLowerCase() === host) === true)
  }
  if (host === 'localhost' || host === hostname().toLowerCase()) return true
  return ['.localhost', '.local', '.internal'].some(tld => host.endsWith(tld))
}
