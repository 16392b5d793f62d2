import type { Stream } from '@libp2p/interface'
import type { ByteStream } from '@libp2p/utils'
import { OllamadError } from '../errors.js'

/** Varint length-prefixed frames, as every ollamad protocol uses for its headers. */
export function frame (msg: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = msg.byteLength
  while (n >= 0x80) { prefix.push((n & 0x7f) | 0x80); n >>>= 7 }
  prefix.push(n)
  const out = new Uint8Array(prefix.length + msg.byteLength)
  out.set(prefix, 0)
  out.set(msg, prefix.length)
  return out
}

/** The bytes `frame` makes of a message of `n` bytes (its varint prefix and the message), without building it. */
export function framedLength (n: number): number {
  let prefix = 1
  for (let v = n; v >= 0x80; v >>>= 7) prefix++
  return prefix + n
}

/**
 * Splits one varint length-prefixed frame of at most `max` bytes off the front of `buf`:
 * undefined while it is not all there yet.
 */
export function takeFrame (buf: Uint8Array, max: number): { frame: Uint8Array, rest: Uint8Array } | undefined {
  let len = 0
  for (let i = 0; ; i++) {
    if (i > 3) throw new OllamadError('PEER_PROTOCOL', 'frame length prefix is too long')
    if (i >= buf.byteLength) return undefined
    const b = buf[i] as number
    len += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) !== 0) continue
    if (len > max) throw new OllamadError('PEER_PROTOCOL', `frame of ${len} bytes is over the limit of ${max}`)
    const end = i + 1 + len
    if (buf.byteLength < end) return undefined
    return { frame: buf.subarray(i + 1, end), rest: buf.subarray(end) }
  }
}

/** Reads one varint length-prefixed frame of at most `max` bytes. */
export async function readFrame (bs: ByteStream<Stream>, max: number, signal: AbortSignal): Promise<Uint8Array> {
  let len = 0
  for (let shift = 0; ; shift += 7) {
    // Four varint bytes reach 256 MiB, far above any frame we accept.
    if (shift > 21) throw new OllamadError('PEER_PROTOCOL', 'frame length prefix is too long')
    const b = (await bs.read({ bytes: 1, signal })).get(0)
    len += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) break
  }
  if (len > max) throw new OllamadError('PEER_PROTOCOL', `frame of ${len} bytes is over the limit of ${max}`)
  if (len === 0) return new Uint8Array(0)
  return (await bs.read({ bytes: len, signal })).subarray()
}

