import type { Socket } from 'node:net'
import { OllamadError } from '../../errors.js'

/**
 * Writes and waits until the socket took the bytes: its write callback, which node:tls calls once
 * the bytes were encrypted and handed to the kernel, so the caller may then reuse the buffer
 * (a write that merely returned `true` may still sit in the socket's queue). For writes past the
 * socket's high-water mark that is the moment 'drain' would fire. Also ends on the socket closing
 * or on `signal`.
 */
export async function writeWithBackpressure (socket: Socket, data: Uint8Array, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  if (socket.destroyed) throw new OllamadError('PEER_UNAVAILABLE', 'the data connection is closed')
  await new Promise<void>((resolve, reject) => {
    let settled = false
    const done = (e?: unknown): void => {
      if (settled) return
      settled = true
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (e === undefined) resolve()
      else reject(e)
    }
    const onClose = (): void => { done(new OllamadError('PEER_UNAVAILABLE', 'the data connection closed while writing')) }
    const onAbort = (): void => { done(signal.reason) }
    socket.on('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
    socket.write(data, (e) => { done(e === undefined || e === null ? undefined : new OllamadError('PEER_UNAVAILABLE', `the data connection failed while writing: ${e.message}`)) })
  })
}

/** A connection's write: refused once the connection failed (with its failure), else with backpressure. */
export function writerFor (socket: Socket, failure: () => Error | undefined): (data: Uint8Array, signal: AbortSignal) => Promise<void> {
  return async (data, signal) => {
    const failed = failure()
    if (failed !== undefined) throw failed
    await writeWithBackpressure(socket, data, signal)
  }
}
