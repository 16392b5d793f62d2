// An experiment behind docs/benchmarks.md ("Chunks checked off the event loop and written past
// the page cache"): 1 GiB written in 4 MiB writes to a fallocated file in the temp dir, through
// the page cache and then fsync'd, or with O_DIRECT from page-aligned buffers (dist/native/aligned.node,
// so run `npm run compile` first). Prints the wall time of the writes, of the fsync, and the CPU.
// Usage: node scripts/experiments/direct-writes.mjs cached|direct [writes at once, default 4]
import { open } from 'node:fs/promises'
import { constants } from 'node:fs'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const aligned = createRequire(import.meta.url)('../../dist/native/aligned.node')
const mode = process.argv[2]
const depth = Number(process.argv[3] ?? 4)
if (mode !== 'cached' && mode !== 'direct') throw new Error('usage: direct-writes.mjs cached|direct [writes at once]')
const SIZE = 1 << 30
const CHUNK = 4 << 20
const path = join(tmpdir(), `direct-writes-${process.pid}.bin`)
try {
  execFileSync('fallocate', ['-l', String(SIZE), path])
  execFileSync('sync')
  const fh = await open(path, constants.O_RDWR | (mode === 'direct' ? constants.O_DIRECT : 0))
  const bufs = Array.from({ length: depth }, () => aligned.alloc(CHUNK).fill(7))
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let next = 0
  await Promise.all(bufs.map(async (b) => {
    while (next < SIZE / CHUNK) { const i = next++; await fh.write(b, 0, CHUNK, i * CHUNK) }
  }))
  const t1 = performance.now()
  await fh.sync()
  const t2 = performance.now()
  const cpu = process.cpuUsage(cpu0)
  await fh.close()
  console.log(`${mode}, ${depth} at once: writes ${((t1 - t0) / 1000).toFixed(2)} s, fsync ${((t2 - t1) / 1000).toFixed(2)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (this process; the page cache's copies run in it)`)
} finally {
  execFileSync('rm', ['-f', path])
}
