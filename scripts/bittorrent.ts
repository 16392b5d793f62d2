// The BitTorrent baseline of bench:swarm: opentracker and an aria2 seeder in the holder's
// namespace, an aria2 leecher in every host's, all started at once, 1 MiB pieces. A leecher keeps
// seeding after it finishes (as ollamad's hosts keep serving), until every host is done.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ChildProcess } from 'node:child_process'
import { machineCpu, nsRun, nsSpawn, run, tempDir } from './netns.js'
import { waitFor } from '../test/fixtures/wait-for.js'

const TRACKER_PORT = 6969
const BT_PORT = 6881

const ARIA = [
  '--enable-dht=false', '--bt-enable-lpd=false', '--enable-peer-exchange=true', '--seed-ratio=0.0',
  '--file-allocation=none', '--bt-max-peers=0', '--summary-interval=0', '--console-log-level=warn',
  `--listen-port=${BT_PORT}`, '--bt-tracker-connect-timeout=5', '--bt-tracker-interval=5'
]

/**
 * Times (s from the common start) at which each host held the whole file, checked by sha256 after,
 * and the whole machine's CPU counters at the start and when the last host was done.
 */
export async function bittorrentRace (o: { holderNs: string, holderAddr: string, hosts: Array<{ ns: string }>, file: string, sha256: string, timeoutMs: number }): Promise<{ done: number[], machine: [ReturnType<typeof machineCpu>, ReturnType<typeof machineCpu>] }> {
  const work = tempDir('bench-bt')
  const torrent = join(work, 'blob.torrent')
  run('mktorrent', ['-l', '20', '-a', `http://${o.holderAddr}:${TRACKER_PORT}/announce`, '-o', torrent, o.file])
  const procs: ChildProcess[] = []
  const stop = async (p: ChildProcess): Promise<void> => {
    p.kill('SIGKILL')
    await new Promise(resolve => { if (p.exitCode !== null || p.signalCode !== null) resolve(undefined); else p.once('exit', resolve) })
  }
  try {
    // Debian's opentracker serves only torrents on its whitelist, which it reads after it chroots
    // and drops root for nobody: a directory of its own with the one info hash in it.
    const jail = join(work, 'tracker')
    mkdirSync(jail, { mode: 0o755 })
    const infoHash = /Info Hash: ([0-9a-f]{40})/i.exec(run('aria2c', ['-S', torrent]))?.[1]
    if (infoHash === undefined) throw new Error('aria2c -S printed no info hash for the torrent')
    writeFileSync(join(jail, 'whitelist'), `${infoHash}\n`, { mode: 0o644 })
    procs.push(nsSpawn(o.holderNs, 'opentracker', ['-i', o.holderAddr, '-p', String(TRACKER_PORT), '-P', String(TRACKER_PORT), '-d', jail, '-w', '/whitelist']))
    await waitFor(async () => (await nsRun(o.holderNs, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${o.holderAddr}:${TRACKER_PORT}/stats`])).stdout !== '000', 10_000, 'opentracker', { retryErrors: true })
    const name = basename(o.file)
    const seeder = nsSpawn(o.holderNs, 'aria2c', [...ARIA, '--bt-seed-unverified=true', '--check-integrity=false', `--dir=${join(o.file, '..')}`, torrent])
    procs.push(seeder)
    let seederLog = ''
    seeder.stdout?.setEncoding('utf8').on('data', (t: string) => { seederLog += t })
    seeder.stderr?.setEncoding('utf8').on('data', (t: string) => { seederLog += t })
    // Let the seeder announce first, as the holder is known before the swarm pull starts.
    await new Promise(resolve => setTimeout(resolve, 2000))
    if (seeder.exitCode !== null) throw new Error(`the aria2 seeder exited: ${seederLog.slice(-2000)}`)
    const dirs = o.hosts.map((_, i) => { const d = join(work, `host${i + 1}`); mkdirSync(d); return d })
    // aria2 calls this once a download is complete and every piece checked (then it seeds on).
    const hook = join(work, 'done.sh')
    writeFileSync(hook, '#!/bin/sh\ntouch "$3.done"\n', { mode: 0o755 })
    const t0 = performance.now()
    const machineBefore = machineCpu()
    procs.push(...o.hosts.map((h, i) => nsSpawn(h.ns, 'aria2c', [...ARIA, `--on-bt-download-complete=${hook}`, `--dir=${dirs[i] as string}`, torrent])))
    const size = statSync(o.file).size
    const done: number[] = []
    await waitFor(() => {
      for (const [i, d] of dirs.entries()) {
        const f = join(d, name)
        if (done[i] === undefined && existsSync(`${f}.done`) && statSync(f).size === size) done[i] = (performance.now() - t0) / 1000
      }
      return dirs.every((_, i) => done[i] !== undefined)
    }, o.timeoutMs, 'every aria2 host to finish', { everyMs: 50 })
    const machine: [ReturnType<typeof machineCpu>, ReturnType<typeof machineCpu>] = [machineBefore, machineCpu()]
    for (const d of dirs) {
      const sum = run('sha256sum', [join(d, name)]).split(' ')[0]
      if (sum !== o.sha256) throw new Error(`aria2 left a wrong file in ${d}: ${sum ?? ''}`)
    }
    return { done, machine }
  } finally {
    for (const p of procs) await stop(p)
    run('rm', ['-rf', work])
  }
}
