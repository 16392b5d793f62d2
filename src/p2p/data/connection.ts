import { OllamadError } from '../../errors.js'
import type { Clock, Timer } from '../../util/clock.js'
import { watchdog, type Watchdog } from '../../util/watchdog.js'
import { connectData, proveDialled, type DialInit } from './handshake.js'
import { writerFor } from './write.js'
import { takeFrame } from '../framing.js'

export interface ReadOptions {
  signal: AbortSignal
  /** Longest silence from the peer; time paused for `onBytes` does not count. */
  stallMs: number
  /** Called with each read's size; returns how many ms to wait before reading more (a download cap). */
  onBytes?: (n: number) => number
}

export interface ExchangeOptions extends ReadOptions {
  maxHeaderBytes: number
  /**
   * Where the answer's body goes, given its header: exactly as long as the body (empty for none).
   * Throwing ends the connection.
   */
  body: (header: Uint8Array) => Uint8Array
}

/** The puller's end of a data connection: it writes tickets or requests and reads each body straight into the caller's buffer. */
export interface ClientDataConnection {
  readonly peer: string
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /** Fills `into` exactly; bytes past it, or bytes nobody asked for, end the connection. */
  readInto: (into: Uint8Array, o: ReadOptions) => Promise<void>
  /** Reads one answer: a length-prefixed header, then the body `o.body` gives room for; resolves with the header. */
  readAnswer: (o: ExchangeOptions) => Promise<Uint8Array>
  /** Still open, with nothing half read. */
  usable: () => boolean
  destroy: (e?: Error) => void
}

/** Reads that land before a body's buffer is known; the first read of each body lands here and is copied once. */
const SCRATCH_BYTES = 64 * 1024
/** Reads are reported in batches of this much (and at the end): one report per 16 KiB TLS record cost more than it told. */
const REPORT_BYTES = 64 * 1024

interface Target {
  /** While the answer's header is still coming: its bytes so far, and what decides the body's room. */
  head?: { bytes: Uint8Array, max: number, body: (header: Uint8Array) => Uint8Array }
  header?: Uint8Array
  buf: Uint8Array
  off: number
  /** Read but not yet reported to `onBytes`. */
  unreported: number
  dog: Watchdog
  onBytes?: (n: number) => number
  resolve: (header: Uint8Array) => void
  reject: (e: unknown) => void
}

/** Dials `peer`'s data port and proves, before anything is sent, that the other end holds `peer`'s key. */
export async function dialDataConnection (init: DialInit): Promise<ClientDataConnection> {
  const { peer, clock } = init
  const scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
  let target: Target | undefined
  let failure: Error | undefined
  let pause: Timer | undefined

  const fail = (e: Error): void => {
    failure ??= e
    const t = target
    target = undefined
    t?.dog.stop()
    t?.reject(failure)
    if (pause !== undefined) clock.clearTimeout(pause)
    socket.destroy()
  }

  /** Header bytes (they land in the scratch buffer) until the header is whole; then the body's room is known. */
  const onHead = (t: Target, n: number): boolean => {
    const head = t.head as NonNullable<Target['head']>
    head.bytes = Buffer.concat([head.bytes, scratch.subarray(0, n)])
    t.dog.kick()
    let got: ReturnType<typeof takeFrame>
    try {
      got = takeFrame(head.bytes, head.max)
      if (got === undefined) return true
      t.header = got.frame
      t.buf = head.body(got.frame)
    } catch (e) {
      fail(e instanceof Error ? e : new Error(String(e)))
      return false
    }
    t.head = undefined
    if (got.rest.byteLength > t.buf.byteLength) { fail(new OllamadError('PEER_PROTOCOL', `${peer} sent more than the ${t.buf.byteLength} bytes it announced`)); return false }
    t.buf.set(got.rest)
    return landed(t, got.rest.byteLength)
  }

  const onRead = (n: number, buf: Uint8Array): boolean => {
    const t = target
    if (t === undefined) { fail(new OllamadError('PEER_PROTOCOL', `${peer} sent data nobody asked for`)); return false }
    if (t.head !== undefined) return onHead(t, n)
    if (buf === scratch) {
      if (n > t.buf.byteLength - t.off) { fail(new OllamadError('PEER_PROTOCOL', `${peer} sent more than the ${t.buf.byteLength} bytes asked for`)); return false }
      t.buf.set(scratch.subarray(0, n), t.off)
    }
    return landed(t, n)
  }

  /** `n` more body bytes are in place: report them, finish the body, or pause for the caller's cap. */
  const landed = (t: Target, n: number): boolean => {
    t.off += n
    t.dog.kick()
    t.unreported += n
    let wait = 0
    if (t.unreported >= REPORT_BYTES || t.off === t.buf.byteLength) {
      wait = t.onBytes?.(t.unreported) ?? 0
      t.unreported = 0
    }
    if (t.off === t.buf.byteLength) {
      target = undefined
      t.dog.stop()
      t.resolve(t.header ?? new Uint8Array(0))
      return true
    }
    if (wait <= 0) return true
    // Our own cap, not the peer's stall: stop reading, so TCP pushes back on the sender.
    t.dog.stop()
    pause = clock.setTimeout(() => { pause = undefined; t.dog.kick(); socket.resume() }, wait)
    return false
  }

  const socket = connectData(init, {
    onread: {
      // A header lands in the scratch buffer (its body's room is not known yet), and so do bytes nobody asked for.
      buffer: () => target !== undefined && target.head === undefined ? target.buf.subarray(target.off) : scratch,
      callback: onRead
    }
  })
  socket.on('error', (e) => { fail(e) })
  socket.on('close', () => { fail(new OllamadError('PEER_UNAVAILABLE', `${peer} closed the data connection`)) })
  await proveDialled(socket, init, fail, () => failure)

  /** Reads into `into` (a body, or a header and then its body) until it is whole, the connection fails, or `o.signal` aborts. */
  const read = async (o: ReadOptions, into: Pick<Target, 'buf' | 'head'>): Promise<Uint8Array> => {
    if (failure !== undefined) throw failure
    if (target !== undefined) throw new OllamadError('INTERNAL', 'a data connection reads one body at a time')
    const onAbort = (): void => { fail(new OllamadError('ABORTED', 'read aborted', { cause: o.signal.reason })) }
    o.signal.throwIfAborted()
    o.signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        const dog = watchdog(clock, o.stallMs, () => { fail(new OllamadError('STALLED', `no bytes from ${peer} for ${o.stallMs} ms`)) })
        target = { ...into, off: 0, unreported: 0, dog, onBytes: o.onBytes, resolve, reject }
      })
    } finally {
      o.signal.removeEventListener('abort', onAbort)
    }
  }

  return {
    peer,
    write: writerFor(socket, () => failure),
    readInto: async (into, o) => {
      if (into.byteLength === 0) { if (failure !== undefined) throw failure; return }
      await read(o, { buf: into })
    },
    readAnswer: async (o) => await read(o, { buf: new Uint8Array(0), head: { bytes: new Uint8Array(0), max: o.maxHeaderBytes, body: o.body } }),
    usable: () => failure === undefined && target === undefined && pause === undefined,
    destroy: (e) => { fail(e ?? new OllamadError('ABORTED', 'data connection closed')) }
  }
}
