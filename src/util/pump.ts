/**
 * Moves a Node stream into `write`, joining the pieces it emits within one turn of the event
 * loop into one write. An HTTP answer of one token per chunk arrives dozens of chunks per socket
 * read; writing each on its own costs a syscall (or a muxer frame and a cipher call) per token.
 * The stream is paused while a write waits, so backpressure reaches its source.
 */
export async function pump (readable: NodeJS.ReadableStream, write: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let pending: Buffer[] = []
    let scheduled = false
    let ended = false
    let writing = false
    const flush = async (): Promise<void> => {
      scheduled = false
      if (pending.length === 0) { if (ended && !writing) resolve(); return }
      const batch = pending.length === 1 ? pending[0] as Buffer : Buffer.concat(pending)
      pending = []
      writing = true
      readable.pause()
      try {
        await write(batch)
      } catch (e) {
        reject(e)
        return
      } finally {
        writing = false
      }
      if (ended) { await flush(); return }
      readable.resume()
    }
    const schedule = (): void => {
      if (scheduled || writing) return
      scheduled = true
      setImmediate(() => { void flush() })
    }
    readable.on('data', (b: Buffer | string) => { pending.push(typeof b === 'string' ? Buffer.from(b) : b); schedule() })
    readable.once('end', () => { ended = true; if (!writing) { scheduled = false; void flush() } })
    readable.once('error', reject)
  })
}
