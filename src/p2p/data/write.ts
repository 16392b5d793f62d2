import type { Socket } from 'node:net'
import { OllamadError } from '../../errors.js'

/** Writes and, when the socket's buffer is full, waits for it to drain, for the socket to close, or for `signal`. */
export async function writeWithBackpressure (socket: Socket, data: Uint8Array, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  if (socket.destroyed) throw new OllamadError('PEER_UNAVAILABLE', 'the data connection is closed')
  if (socket.write(data)) return
  await new Promise<void>((resolve, reject) => {
    const done = (e?: unknown): void => {
      socket.off('drain', onDrain)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (e === undefined) resolve()
      else reject(e)
    }
    const onDrain = (): void => { done() }
    const onClose = (): void => { done(new OllamadError('PEER_UNAVAILABLE', 'the data connection closed while writing')) }
    const onAbort = (): void => { done(signal.reason) }
    socket.on('drain', onDrain)
    socket.on('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
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
