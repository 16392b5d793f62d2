import { execFile } from 'node:child_process'
import { systemClock, type Clock } from '../util/clock.js'

export interface GpuFact { index: number, name: string, memoryTotal: number, memoryUsed: number, memoryFree: number, utilization: number }

/** GPU facts from nvidia-smi; an empty list, honestly, when there is no NVIDIA GPU or tool. */
export interface GpuReader { read: () => Promise<GpuFact[]> }

const MiB = 1024 * 1024

export function parseNvidiaSmi (csv: string): GpuFact[] {
  const out: GpuFact[] = []
  for (const line of csv.split('\n')) {
    const f = line.split(',').map(s => s.trim())
    if (f.length < 6) continue
    const n = (s: string | undefined): number => { const v = Number(s); return Number.isFinite(v) && v >= 0 ? v : 0 }
    out.push({ index: n(f[0]), name: (f[1] ?? '').slice(0, 100), memoryTotal: n(f[2]) * MiB, memoryUsed: n(f[3]) * MiB, memoryFree: n(f[4]) * MiB, utilization: n(f[5]) })
  }
  return out
}

/** A machine without the tool is asked again only this often (a driver may be installed later). */
const ABSENT_RETRY_MS = 60_000

export function createGpuReader (clock: Pick<Clock, 'now'> = systemClock, bin = 'nvidia-smi'): GpuReader {
  let absentUntil = -Infinity
  return {
    read: async () => {
      // Spawning a missing binary on every heartbeat costs every GPU-less node a fork for nothing.
      if (clock.now() < absentUntil) return []
      return await new Promise(resolve => {
        execFile(bin, ['--query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu', '--format=csv,noheader,nounits'],
          { timeout: 5000, maxBuffer: 256 * 1024 }, (err, stdout) => {
            if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') absentUntil = clock.now() + ABSENT_RETRY_MS
            resolve(err !== null ? [] : parseNvidiaSmi(stdout))
          })
      })
    }
  }
}
