import type { IncomingHttpHeaders } from 'node:http'
import { OllamadError } from '../errors.js'

/** How a response body ends: after a byte count, with a zero-size chunk, or when the server closes. */
export type BodyFraming =
  | { kind: 'length', length: number }
  | { kind: 'chunked' }
  | { kind: 'close' }

export interface ResponseHead { status: number, headers: IncomingHttpHeaders, framing: BodyFraming }

/** Headers that carry one value, whose repeats node:http drops. */
const SINGLE = new Set(['age', 'authorization', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent'])

const malformed = (what: string): OllamadError => new OllamadError('REGISTRY_ERROR', `malformed response from the registry: ${what}`)

/** Parses an HTTP/1.x response head (without its closing blank line), as RFC 9112 frames it. */
export function parseHead (text: string, method: string): ResponseHead {
  const lines = text.split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(lines[0] ?? '')
  if (m === null) throw malformed(`status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`)
  const status = Number(m[1])
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) throw malformed(`header line ${JSON.stringify(line.slice(0, 80))}`)
    const name = line.slice(0, colon).toLowerCase()
    const value = line.slice(colon + 1).trim()
    // As node:http does: a repeat of a one-value header is dropped (a second Location must not
    // splice into the first); others are joined. Content-Length repeats are joined to be checked.
    if (headers[name] === undefined) headers[name] = value
    else if (!SINGLE.has(name)) headers[name] = `${headers[name] as string}, ${value}`
  }
  return { status, headers, framing: framingOf(status, headers, method) }
}

function framingOf (status: number, headers: Record<string, string>, method: string): BodyFraming {
  if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'length', length: 0 }
  const te = headers['transfer-encoding']
  if (te !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(te)) throw malformed(`transfer-encoding ${JSON.stringify(te.slice(0, 80))}`)
    return { kind: 'chunked' }
  }
  const cl = headers['content-length']
  if (cl === undefined) return { kind: 'close' }
  // Repeated equal values are allowed; differing ones are not.
  const values = new Set(cl.split(',').map(v => v.trim()))
  const only = [...values][0] as string
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw malformed(`content-length ${JSON.stringify(cl.slice(0, 80))}`)
  return { kind: 'length', length: Number(only) }
}
