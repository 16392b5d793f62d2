import { chunkCount, chunkRange, createChainHasher, hashThrough, type PartialBlob } from '../../store/index.js'
import { startHashThread, type HashThread } from './hash-thread.js'

const READ_BUF = 1024 * 1024
/** Blobs from this size up are worth a hash thread of their own. */
export const HASH_THREAD_MIN_BYTES = 64 * 1024 * 1024
/** How many finished chunks one message to the hash thread covers at most. */
const THREAD_BATCH = 16

/**
 * Hashes a partial blob in byte order while chunks arrive out of order, keeping its sha256 chain
 * (the chunk map a first holder gossips): each `kick` hashes the run of finished chunks after the
 * frontier, reading them back from the (page-cached) file, so every byte is hashed once without
 * holding chunks in memory.
 */
export interface InOrderHasher {
  kick: () => void
  /** Chunk `index` was written and marked done, and here are its bytes: when it is next in order, it is hashed from memory rather than read back. */
  offer: (index: number, data: Uint8Array) => void
  /** Waits until every chunk is hashed and returns the hex sha256. */
  finish: () => Promise<string>
  /** The blob's chain, after `finish`. */
  chain: () => Uint8Array[] | undefined
  /** Stops hashing (the download failed); the hasher is unusable after. */
  close: () => Promise<void>
}

export interface HasherOptions {
  /**
   * Hash on a worker thread, reading the chunks back from the page cache. It pays where bytes
   * land out of order without passing through JavaScript whole (parallel registry ranges).
   */
  thread?: boolean
}

export function createInOrderHasher (partial: PartialBlob, opts: HasherOptions = {}): InOrderHasher {
  const hasher = createChainHasher(partial.size)
  const total = chunkCount(partial.size)
  const thread: HashThread | undefined = opts.thread === true ? startHashThread(partial.path, partial.size) : undefined
  const buf = thread === undefined ? Buffer.allocUnsafe(READ_BUF) : Buffer.alloc(0)
  let next = 0
  let chain: Uint8Array[] | undefined
  let running: Promise<void> | undefined
  let again = false
  let failure: unknown

  const drainOnThread = async (t: HashThread): Promise<void> => {
    while (next < total && partial.bitmap.get(next)) {
      const ranges: Array<{ start: number, end: number }> = []
      for (let i = next; i < total && partial.bitmap.get(i) && ranges.length < THREAD_BATCH; i++) ranges.push(chunkRange(partial.size, i))
      await t.update(ranges)
      next += ranges.length
    }
  }

  const drain = async (): Promise<void> => {
    if (thread !== undefined) { await drainOnThread(thread); return }
    while (next < total && partial.bitmap.get(next)) {
      await hashThrough(hasher, partial.read, buf, chunkRange(partial.size, next).end)
      next++
    }
  }

  const kick = (): void => {
    if (running !== undefined) { again = true; return }
    running = (async () => {
      do { again = false; await drain() } while (again)
    })().catch(e => { failure = e }).finally(() => { running = undefined })
  }

  const offer = (index: number, data: Uint8Array): void => {
    const { start, end } = chunkRange(partial.size, index)
    if (thread === undefined && running === undefined && failure === undefined && index === next && partial.bitmap.get(index) && data.byteLength === end - start) {
      hasher.update(data)
      next++
    }
    kick()
  }

  return {
    kick,
    offer,
    chain: () => chain,
    finish: async () => {
      kick()
      while (running !== undefined) await running
      if (failure !== undefined) throw failure
      if (next < total) throw new Error(`blob ${partial.digest} is incomplete: ${next} of ${total} chunks`)
      chain = thread !== undefined ? await thread.chain() : hasher.chain()
      return Buffer.from(chain[total - 1] as Uint8Array).toString('hex')
    },
    close: async () => { await thread?.close() }
  }
}
