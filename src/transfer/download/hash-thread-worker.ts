// The body of a hash thread (see hash-thread.ts): reads a file through the page cache and
// hashes it in order, so the main thread never spends its turns on sha256.
import { parentPort, workerData } from 'node:worker_threads'
import { readSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { HashRequest, HashReply } from './hash-thread.js'

const READ_BUF = 1024 * 1024
const { fd, path, chunkHashes } = workerData as { fd: number, path: string, chunkHashes: boolean }
const whole = createHash('sha256')
const buf = Buffer.allocUnsafe(READ_BUF)

const update = (ranges: Array<{ start: number, end: number }>): Uint8Array[] => {
  const out: Uint8Array[] = []
  for (const { start, end } of ranges) {
    const chunk = chunkHashes ? createHash('sha256') : undefined
    for (let pos = start; pos < end;) {
      const n = readSync(fd, buf, 0, Math.min(READ_BUF, end - pos), pos)
      if (n <= 0) throw new Error(`short read at byte ${pos} of ${path}`)
      const piece = buf.subarray(0, n)
      whole.update(piece)
      chunk?.update(piece)
      pos += n
    }
    if (chunk !== undefined) out.push(new Uint8Array(chunk.digest()))
  }
  return out
}

parentPort?.on('message', (m: HashRequest) => {
  let reply: HashReply
  try {
    if (m.op === 'update') reply = { ok: true, hashes: update(m.ranges) }
    else reply = { ok: true, hex: whole.digest('hex') }
  } catch (e) {
    reply = { ok: false, error: (e as Error).message }
  }
  parentPort?.postMessage(reply)
})
