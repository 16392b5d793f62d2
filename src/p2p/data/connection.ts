import tls from 'node:tls'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Clock, Timer } from '../../util/clock.js'
import { watchdog, type Watchdog } from '../../util/watchdog.js'
import { certificatePeer, type DataIdentity } from './identity.js'
import { tlsOptions } from './tls-options.js'
import { writeWithBackpressure } from './write.js'

export interface ReadOptions {
  signal: AbortSignal
  /** Longest silence from the peer; time paused for `onBytes` does not count. */
  stallMs: number
  /** Called with each read's size; returns how many ms to wait before reading more (a download cap). */
  onBytes?: (n: number) => number
}

/** The puller's end of a data connection: it writes tickets and reads each body straight into the caller's buffer. */
export interface ClientDataConnection {
  readonly peer: string
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /** Fills `into` exactly; bytes past it, or bytes nobody asked for, end the connection. */
  readInto: (into: Uint8Array, o: ReadOptions) => Promise<void>
  /** Still open, with nothing half read. */
  usable: () => boolean
  destroy: (e?: Error) => void
}

export interface DialInit {
  peer: string
  host: string
  port: number
  identity: DataIdentity
  clock: Clock
  signal: AbortSignal
}

/** Reads that land before a body's buffer is known; the first read of each body lands here and is copied once. */
const SCRATCH_BYTES = 64 * 1024
/** Reads are reported in batches of this much (and at the end): one report per 16 KiB TLS record cost more than it told. */
const REPORT_BYTES = 64 * 1024

interface Target {
  buf: Uint8Array
  off: number
  /** Read but not yet reported to `onBytes`. */
  unreported: number
  dog: Watchdog
  onBytes?: (n: number) => number
  resolve: () => void
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

  const onRead = (n: number, buf: Uint8Array): boolean => {
    const t = target
    if (t === undefined) { fail(new OllamadError('PEER_PROTOCOL', `${peer} sent data nobody asked for`)); return false }
    if (buf === scratch) {
      if (n > t.buf.byteLength - t.off) { fail(new OllamadError('PEER_PROTOCOL', `${peer} sent more than the ${t.buf.byteLength} bytes asked for`)); return false }
      t.buf.set(scratch.subarray(0, n), t.off)
    }
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
      t.resolve()
      return true
    }
    if (wait <= 0) return true
    // Our own cap, not the peer's stall: stop reading, so TCP pushes back on the sender.
    t.dog.stop()
    pause = clock.setTimeout(() => { pause = undefined; t.dog.kick(); socket.resume() }, wait)
    return false
  }

  const socket = tls.connect({
    ...tlsOptions(init.identity),
    host: init.host,
    port: init.port,
    checkServerIdentity: () => undefined,
    onread: {
      buffer: () => target !== undefined ? target.buf.subarray(target.off) : scratch,
      callback: onRead
    }
  } as tls.ConnectionOptions)
  socket.setNoDelay(true)
  socket.on('error', (e) => { fail(e) })
  socket.on('close', () => { fail(new OllamadError('PEER_UNAVAILABLE', `${peer} closed the data connection`)) })

  const onAbort = (): void => { fail(new OllamadError('ABORTED', 'dial aborted', { cause: init.signal.reason })) }
  init.signal.addEventListener('abort', onAbort, { once: true })
  try {
    await new Promise<void>((resolve, reject) => {
      if (failure !== undefined) { reject(failure); return }
      socket.once('secureConnect', resolve)
      socket.once('close', () => { reject(failure) })
    })
    await certificatePeer(socket.getPeerCertificate().raw, peer)
  } catch (e) {
    fail(e instanceof Error ? e : new Error(String(e)))
    if (init.signal.aborted) throw failure
    throw new OllamadError('DATA_UNREACHABLE', `cannot open a data connection to ${peer} at ${init.host}:${init.port}: ${errorMessage(failure)}`)
  } finally {
    init.signal.removeEventListener('abort', onAbort)
  }

  return {
    peer,
    write: async (data, signal) => {
      if (failure !== undefined) throw failure
      await writeWithBackpressure(socket, data, signal)
    },
    readInto: async (into, o) => {
      if (failure !== undefined) throw failure
      if (target !== undefined) throw new OllamadError('INTERNAL', 'a data connection reads one body at a time')
      if (into.byteLength === 0) return
      const onAbort = (): void => { fail(new OllamadError('ABORTED', 'read aborted', { cause: o.signal.reason })) }
      o.signal.throwIfAborted()
      o.signal.addEventListener('abort', onAbort, { once: true })
      try {
        await new Promise<void>((resolve, reject) => {
          const dog = watchdog(clock, o.stallMs, () => { fail(new OllamadError('STALLED', `no bytes from ${peer} for ${o.stallMs} ms`)) })
          target = { buf: into, off: 0, unreported: 0, dog, onBytes: o.onBytes, resolve, reject }
        })
      } finally {
        o.signal.removeEventListener('abort', onAbort)
      }
    },
    usable: () => failure === undefined && target === undefined && pause === undefined,
    destroy: (e) => { fail(e ?? new OllamadError('ABORTED', 'data connection closed')) }
  }
}
