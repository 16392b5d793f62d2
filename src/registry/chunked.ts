import { OllamadError } from '../errors.js'

/** A chunk-size or trailer line longer than this is refused, and so are trailers longer in all. */
const LINE_MAX = 4096
const TRAILERS_MAX = 16 * 1024

const malformed = (what: string): OllamadError => new OllamadError('REGISTRY_ERROR', `malformed chunked body from the registry: ${what}`)

/**
 * Decodes a chunked body (RFC 9112 section 7.1) piece by piece. Each call hands the data it finds
 * to `push` (as copies: the input's buffer may be reused) and returns true once the body, with its
 * trailers, is over; bytes after that are ignored.
 */
export function createChunkedDecoder (): (bytes: Buffer, push: (data: Buffer) => void) => boolean {
  let state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size'
  let line = ''
  let left = 0
  let trailers = 0

  /** Collects a line; returns it once its CRLF came, or undefined while it is still open. */
  const takeLine = (bytes: Buffer, at: number): { text?: string, next: number } => {
    const nl = bytes.indexOf(10, at)
    const end = nl < 0 ? bytes.byteLength : nl
    line += bytes.toString('latin1', at, end)
    if (line.length > LINE_MAX) throw malformed('a line over 4096 bytes')
    if (nl < 0) return { next: bytes.byteLength }
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    line = ''
    return { text, next: nl + 1 }
  }

  return (bytes, push) => {
    let at = 0
    while (at < bytes.byteLength && state !== 'done') {
      if (state === 'data') {
        const n = Math.min(left, bytes.byteLength - at)
        push(Buffer.from(bytes.subarray(at, at + n)))
        at += n
        left -= n
        if (left === 0) state = 'data-end'
        continue
      }
      const { text, next } = takeLine(bytes, at)
      at = next
      if (text === undefined) break
      if (state === 'data-end') {
        if (text !== '') throw malformed('no line end after a chunk')
        state = 'size'
      } else if (state === 'size') {
        const m = /^([0-9a-fA-F]{1,12})(?:\s*;.*)?$/.exec(text)
        if (m === null) throw malformed(`chunk size ${JSON.stringify(text.slice(0, 40))}`)
        left = parseInt(m[1] as string, 16)
        state = left === 0 ? 'trailer' : 'data'
      } else if (text === '') {
        state = 'done'
      } else {
        trailers += text.length + 2
        if (trailers > TRAILERS_MAX) throw malformed(`trailers over ${TRAILERS_MAX} bytes`)
      }
    }
    return state === 'done'
  }
}
