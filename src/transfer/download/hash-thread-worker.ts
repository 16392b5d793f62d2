// The body of a hash thread (see hash-thread.ts): reads a file through the page cache and
// hashes it in order, so the main thread never spends its turns on sha256.
import { parentPort, workerData } from 'node:worker_threads'
import { readSync } from 'node:fs'
import { createChainHasher } from '../../util/sha256-chain.js'
import type { HashRequest, HashReply } from './hash-thread.js'

const READ_BUF = 1024 * 1024
const { fd, path, size, chunkSize } = workerData as { fd: number, path: string, size: number, chunkSize: number }
const hasher = createChainHasher(size, chunkSize)
const buf = Buffer.allocUnsafe(READ_BUF)

const update = (ranges: Array<{ start: number, end: number }>): void => {
  for (const { start, end } of ranges) {
    if (start !== hasher.position()) throw new Error(`range at byte ${start} of ${path} is not next (${hasher.position()})`)
    for (let pos = start; pos < end;) {
      const want = Math.min(READ_BUF, end - pos)
      const n = readSync(fd, buf, 0, want, pos)
      if (n < want) throw new Error(`short read at byte ${pos} of ${path}`)
      hasher.update(buf.subarray(0, n))
      pos += n
    }
  }
}

parentPort?.on('message', (m: HashRequest) => {
  let reply: HashReply
  try {
    if (m.op === 'update') { update(m.ranges); reply = { ok: true } } else reply = { ok: true, chain: hasher.chain() }
  } catch (e) {
    reply = { ok: false, error: (e as Error).message }
  }
  parentPort?.postMessage(reply)
})
