/**
 * Moves a Node stream into `write`, joining the pieces it emits within one turn of the event
 * loop into one write. An HTTP answer of one token per chunk arrives dozens of chunks per socket
 * read; writing each on its own costs a syscall (or a muxer frame and a cipher call) per token.
 * The stream is paused while a write waits, so backpressure reaches its source. `last` is true for
 * the batch that the stream's end came with (an HTTP answer can then end in the same write);
 * when the end comes alone, `write` is called once more with an empty chunk and `last`.
 */
export async function pump (readable: NodeJS.ReadableStream, write: (chunk: Buffer, last: boolean) => void | Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let pending: Buffer[] = []
    let scheduled = false
    let ended = false
    let writing = false
    let finished = false
    const flush = async (): Promise<void> => {
      scheduled = false
      if (finished) return
      if (pending.length === 0 && !ended) return
      const batch = pending.length === 0 ? Buffer.alloc(0) : pending.length === 1 ? pending[0] as Buffer : Buffer.concat(pending)
      pending = []
      const last = ended
      writing = true
      readable.pause()
      try {
        await write(batch, last)
      } catch (e) {
        reject(e)
        return
      } finally {
        writing = false
      }
      if (last) { finished = true; resolve(); return }
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
