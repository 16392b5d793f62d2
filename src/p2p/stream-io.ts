import type { Stream, StreamCloseEvent } from '@libp2p/interface'

/**
 * Waits until at most `maxQueued` bytes wait in the stream's write queue. Not `onDrain()`: in
 * @libp2p/utils 7.4 its promise is made once and never reset, so after the first drain it
 * resolves at once and a writer's queue grows without bound. Not one 'drain' event either: yamux
 * fires one on every window update, however small.
 */
export async function waitForWritable (stream: Stream, maxQueued = 0, signal?: AbortSignal): Promise<void> {
  while (stream.writeBufferLength > maxQueued) {
    signal?.throwIfAborted()
    if (stream.writeStatus !== 'writable') throw new Error(`stream is ${stream.writeStatus}`)
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        stream.removeEventListener('drain', onProgress)
        stream.removeEventListener('idle', onProgress)
        stream.removeEventListener('close', onClose)
        signal?.removeEventListener('abort', onAbort)
      }
      const onProgress = (): void => { cleanup(); resolve() }
      const onClose = (evt: StreamCloseEvent): void => { cleanup(); reject(evt.error ?? new Error('stream closed while writing')) }
      const onAbort = (): void => { cleanup(); reject(signal?.reason) }
      stream.addEventListener('drain', onProgress)
      stream.addEventListener('idle', onProgress)
      stream.addEventListener('close', onClose)
      signal?.addEventListener('abort', onAbort)
    })
  }
}

/** Queues bytes (send always queues, even when it returns false) and waits for the queue to empty. */
export async function sendWithBackpressure (stream: Stream, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  stream.send(data)
  await waitForWritable(stream, 0, signal)
}
