import { Worker } from 'node:worker_threads'
import { openSync, closeSync } from 'node:fs'

export type HashRequest =
  | { op: 'update', ranges: Array<{ start: number, end: number }> }
  | { op: 'digest' }

export type HashReply =
  | { ok: true, hashes?: Uint8Array[], hex?: string }
  | { ok: false, error: string }

/**
 * A worker thread that hashes one file in byte order. Hashing a large blob costs its receiver
 * more main-thread time than anything else (two sha256 passes when it builds the chunk map);
 * on a thread of its own it overlaps the network and disk work instead of queueing behind it.
 */
export interface HashThread {
  /** Hashes these consecutive byte ranges next; each range's sha256 when chunk hashes were asked for. */
  update: (ranges: Array<{ start: number, end: number }>) => Promise<Uint8Array[]>
  /** The sha256 of everything hashed, in hex; the thread ends after it. */
  digest: () => Promise<string>
  close: () => Promise<void>
}

export function startHashThread (path: string, opts: { chunkHashes: boolean }): HashThread {
  // The descriptor belongs to this side: a terminated worker does not close what it opened.
  const fd = openSync(path, 'r')
  let worker: Worker
  try {
    worker = new Worker(new URL('./hash-thread-worker.js', import.meta.url), {
      workerData: { fd, path, chunkHashes: opts.chunkHashes },
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
    update: async (ranges) => (await call({ op: 'update', ranges })).hashes ?? [],
    digest: async () => {
      const { hex } = await call({ op: 'digest' })
      await close()
      return hex ?? ''
    },
    close
  }
}
