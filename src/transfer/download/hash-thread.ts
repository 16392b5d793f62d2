import { Worker } from 'node:worker_threads'
import { openSync, closeSync } from 'node:fs'
import { chunkSize } from '../../store/index.js'

export type HashRequest =
  | { op: 'update', ranges: Array<{ start: number, end: number }> }
  | { op: 'chain' }

export type HashReply =
  | { ok: true, chain?: Uint8Array[] }
  | { ok: false, error: string }

/**
 * A worker thread that hashes one file in byte order, keeping its sha256 chain. Hashing a large
 * blob costs its receiver more main-thread time than anything else; on a thread of its own it
 * overlaps the network and disk work instead of queueing behind it.
 */
export interface HashThread {
  /** Hashes these consecutive byte ranges next (whole chunks, in order). */
  update: (ranges: Array<{ start: number, end: number }>) => Promise<void>
  /** The blob's sha256 chain, once every chunk is hashed; the thread ends after it. */
  chain: () => Promise<Uint8Array[]>
  close: () => Promise<void>
}

export function startHashThread (path: string, size: number): HashThread {
  // The descriptor belongs to this side: a terminated worker does not close what it opened.
  const fd = openSync(path, 'r')
  let worker: Worker
  try {
    worker = new Worker(new URL('./hash-thread-worker.js', import.meta.url), {
      workerData: { fd, path, size, chunkSize: chunkSize(size) },
      // It allocates one read buffer: a small heap keeps the thread's memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 }
    })
  } catch (e) { closeSync(fd); throw e }
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await worker.terminate()
    closeSync(fd)
  }
  const waiting: Array<{ resolve: (r: HashReply & { ok: true }) => void, reject: (e: Error) => void }> = []
  let failure: Error | undefined
  const fail = (e: Error): void => {
    failure ??= e
    for (const w of waiting.splice(0)) w.reject(failure)
  }
  worker.on('message', (m: HashReply) => {
    const w = waiting.shift()
    if (m.ok) w?.resolve(m)
    else w?.reject(new Error(m.error))
  })
  worker.on('error', fail)
  worker.on('exit', () => { fail(new Error('the hash thread ended')) })
  const call = async (m: HashRequest): Promise<HashReply & { ok: true }> => await new Promise((resolve, reject) => {
    if (failure !== undefined) { reject(failure); return }
    waiting.push({ resolve, reject })
    worker.postMessage(m)
  })
  return {
    update: async (ranges) => { await call({ op: 'update', ranges }) },
    chain: async () => {
      const { chain } = await call({ op: 'chain' })
      await close()
      return chain ?? []
    },
    close
  }
}
