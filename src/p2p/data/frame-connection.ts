import { OllamadError } from '../../errors.js'
import { watchdog } from '../../util/watchdog.js'
import { takeFrame } from '../framing.js'
import { connectData, proveDialled, type DialInit } from './handshake.js'
import { writerFor } from './write.js'

export interface FrameReadOptions {
  signal: AbortSignal
  /** Largest frame taken. */
  maxBytes: number
  /** Longest wait for the frame. */
  stallMs: number
}

/**
 * The asker's end of a data connection whose answers come as a stream of small frames (inference
 * answers: a head, then pieces as the model makes them, then an empty frame). Bytes come as
 * socket data events (pieces are small: no point in reading them in place), and the socket
 * pauses while frames wait unread, so a fast sender is held back by TCP.
 */
export interface FrameConnection {
  readonly peer: string
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /** The next frame's payload (empty: the end of an answer). */
  next: (o: FrameReadOptions) => Promise<Uint8Array>
  /**
   * The frames that have come, at least one (waiting for it), up to an empty one: a reader of many
   * small pieces takes them in one turn rather than one each.
   */
  batch: (o: FrameReadOptions) => Promise<Uint8Array[]>
  /** Still open, with no frame half read or waiting. */
  usable: () => boolean
  destroy: (e?: Error) => void
}

/** Bytes read ahead of the reader before the socket pauses. */
const READ_AHEAD = 256 * 1024

export async function dialFrameConnection (init: DialInit): Promise<FrameConnection> {
  const { peer } = init
  // Unread bytes: a view of what came, so taking a frame copies nothing (a reader behind many small frames would copy the rest for each).
  let pending: Uint8Array = new Uint8Array(0)
  let failure: Error | undefined
  let waiter: (() => void) | undefined

  const fail = (e: Error): void => {
    failure ??= e
    socket.destroy()
    waiter?.()
  }
  const socket = connectData(init)
  socket.on('error', (e) => { fail(e) })
  socket.on('close', () => { fail(new OllamadError('PEER_UNAVAILABLE', `${peer} closed the data connection`)) })
  socket.on('data', (d: Buffer) => {
    pending = pending.byteLength === 0 ? d : Buffer.concat([pending, d])
    if (pending.byteLength > READ_AHEAD) socket.pause()
    waiter?.()
  })
  await proveDialled(socket, init, fail, () => failure)

  /** A whole frame from what has come, if there is one. */
  const take = (maxBytes: number): Uint8Array | undefined => {
    const got = takeFrame(pending, maxBytes)
    if (got === undefined) return undefined
    pending = got.rest
    if (socket.isPaused() && pending.byteLength <= READ_AHEAD) socket.resume()
    return got.frame
  }

  const next = async (o: FrameReadOptions): Promise<Uint8Array> => {
    o.signal.throwIfAborted()
    if (waiter !== undefined) throw new OllamadError('INTERNAL', 'a frame connection reads one frame at a time')
    const dog = watchdog(init.clock, o.stallMs, () => { fail(new OllamadError('STALLED', `no bytes from ${peer} for ${o.stallMs} ms`)) })
    const onAbort = (): void => { fail(new OllamadError('ABORTED', 'read aborted', { cause: o.signal.reason })) }
    o.signal.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        const frame = take(o.maxBytes)
        if (frame !== undefined) return frame
        if (failure !== undefined) throw failure
        socket.resume()
        await new Promise<void>(resolve => { waiter = resolve })
        waiter = undefined
        dog.kick()
      }
    } catch (e) {
      // A frame over the limit, or a connection that ended mid-answer: nothing more on it is usable.
      fail(e instanceof Error ? e : new Error(String(e)))
      throw e
    } finally {
      waiter = undefined
      dog.stop()
      o.signal.removeEventListener('abort', onAbort)
    }
  }

  return {
    peer,
    write: writerFor(socket, () => failure),
    next,
    batch: async (o) => {
      const frames = [await next(o)]
      for (let f: Uint8Array | undefined; (frames.at(-1) as Uint8Array).byteLength > 0 && (f = take(o.maxBytes)) !== undefined;) frames.push(f)
      return frames
    },
    usable: () => failure === undefined && waiter === undefined && pending.byteLength === 0,
    destroy: (e) => { fail(e ?? new OllamadError('ABORTED', 'data connection closed')) }
  }
}
