// The floor baseline of bench:swarm: the swarm's bytes on the same LAN with nothing but TCP
// (wire-floor.c), on the schedule no swarm can beat. The holder sends each of the N hosts 1/N of
// the model, and every host sends its 1/N to each other host, all at once from the start: each
// host receives the whole model, no uplink carries more than the model, and nobody waits for a
// chunk to arrive before passing it on. A swarm's time over this one is what its protocol and its
// CPU cost on this machine, apart from the LAN's own cost.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { machineCpu, nsSpawn, tempDir } from './netns.js'

const PORT = 7800

/** Compiles wire-floor.c (gcc comes with the bench's dependencies) into a fresh directory. */
function build (): string {
  // Compiled into dist/scripts/; the C file stays in scripts/.
  const src = fileURLToPath(new URL('../../scripts/wire-floor.c', import.meta.url))
  const out = join(tempDir('bench-floor'), 'wire-floor')
  execFileSync('gcc', ['-O2', '-Wall', '-Werror', src, '-o', out], { stdio: 'inherit' })
  return out
}

/**
 * Each host's time (s from the common start) to receive `size` bytes on the floor schedule, and
 * the whole machine's CPU counters at the start and when the last one was done.
 */
export async function floorRace (o: { namespaces: string[], addrs: string[], size: number, timeoutMs: number }): Promise<{ done: number[], machine: [ReturnType<typeof machineCpu>, ReturnType<typeof machineCpu>] }> {
  const bin = build()
  const hosts = o.namespaces.length - 1
  const share = Math.ceil(o.size / hosts)
  // Far enough ahead that every process is listening when the first connects.
  const startMs = Date.now() + 1500
  const procs = o.namespaces.map((ns, i) => {
    const dests = i === 0 ? o.addrs.slice(1) : o.addrs.slice(1).filter((_, j) => j + 1 !== i)
    // The holder receives nothing; a host receives a share from the holder and from every other host.
    const expect = i === 0 ? 0 : share * hosts
    return nsSpawn(ns, bin, [String(PORT), String(expect), String(startMs), String(share), ...dests])
  })
  const machineBefore = await new Promise<ReturnType<typeof machineCpu>>(resolve => setTimeout(() => { resolve(machineCpu()) }, Math.max(0, startMs - Date.now())))
  const t0 = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    const results = await Promise.race([
      Promise.all(procs.map(async (p, i) => await new Promise<number>((resolve, reject) => {
        let out = ''
        let err = ''
        p.stdout?.setEncoding('utf8').on('data', (t: string) => { out += t })
        p.stderr?.setEncoding('utf8').on('data', (t: string) => { err += t })
        p.once('close', (code) => {
          const seconds = i === 0 ? (performance.now() - t0) / 1000 : Number(out.trim())
          if (code === 0 && Number.isFinite(seconds)) resolve(seconds)
          else reject(new Error(`wire-floor in ${o.namespaces[i] ?? ''} exited ${String(code)} (${out.trim()}): ${err.trim()}`))
        })
      }))),
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`the floor race took over ${o.timeoutMs} ms`)) }, o.timeoutMs) })
    ])
    return { done: results.slice(1), machine: [machineBefore, machineCpu()] }
  } finally {
    clearTimeout(timer)
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
  }
}
