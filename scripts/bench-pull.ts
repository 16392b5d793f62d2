// npm run bench:pull — pulls a 1 GiB model from a local docker-registry through ollamad and,
// in the same run, fetches the same blob with `curl | tee FILE | openssl sha256`. Prints both
// times, their ratio (target: ollamad >= 1.0x the baseline's speed) and ollamad's peak RSS.
import '../src/polyfill.js'
import { rm } from 'node:fs/promises'
import { median, pushRandomModel, settleDisk } from './bench-util.js'
import { join } from 'node:path'
import { startRegistry } from '../test/fixtures/registry.js'
import { startDaemon, tempDir } from '../test/fixtures/daemon.js'
import { curlTeeOpenssl } from './baseline.js'
import { rssMiB } from './netns.js'

const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * 1024 * 1024
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
// BENCH_NODE_FLAGS: more node flags for the daemon (e.g. --perf-basic-prof for perf).
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')


async function main (): Promise<void> {
  const work = await tempDir('bench')
  const registry = await startRegistry()
  try {
    const blobPath = join(work, 'model.bin')
    const { digest } = await pushRandomModel(registry.url, 'library/bench', blobPath, SIZE)
    await rm(blobPath)
    const blobUrl = `${registry.url}/v2/library/bench/blobs/${digest}`
    const curlTimes: number[] = []
    const ollamadTimes: number[] = []
    const rss: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      // Baseline: one stream, written to a file and hashed as it passes.
      await settleDisk()
      const copy = await curlTeeOpenssl(blobUrl, join(work, 'curl.bin'))
      if (copy.hex !== digest.slice(7)) throw new Error(`curl baseline hashed to ${copy.hex}`)
      curlTimes.push(copy.secs)

      const daemon = await startDaemon({ args: ['--insecure-registry', registry.host], nodeArgs: NODE_FLAGS })
      try {
        await settleDisk()
        const t = process.hrtime.bigint()
        const res = await fetch(`${daemon.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: `${registry.host}/library/bench`, stream: false }) })
        const body = await res.text()
        ollamadTimes.push(Number(process.hrtime.bigint() - t) / 1e9)
        if (res.status !== 200) throw new Error(`pull failed: ${body}`)
        rss.push(rssMiB(daemon.proc.pid as number).peak)
      } finally {
        await daemon.kill('SIGKILL')
        await rm(daemon.modelsDir, { recursive: true, force: true })
        await rm(daemon.dataDir, { recursive: true, force: true })
      }
      console.log(`round ${round + 1}: curl | tee | openssl sha256 ${curlTimes[round]?.toFixed(2)} s, ollamad ${ollamadTimes[round]?.toFixed(2)} s, peak RSS ${rss[round]?.toFixed(0)} MiB`)
    }
    const c = median(curlTimes)
    const o = median(ollamadTimes)
    const mib = SIZE / 1024 / 1024
    console.log(`blob: ${mib} MiB, rounds: ${ROUNDS} (medians)`)
    console.log(`curl | tee | openssl sha256: ${c.toFixed(2)} s (${(mib / c).toFixed(0)} MiB/s)`)
    console.log(`ollamad pull:     ${o.toFixed(2)} s (${(mib / o).toFixed(0)} MiB/s)`)
    console.log(`speed ratio ollamad / baseline: ${(c / o).toFixed(2)}x (target >= 1.0)`)
    console.log(`ollamad peak RSS: ${Math.max(...rss).toFixed(0)} MiB (target < 150)`)
  } finally {
    await registry.stop()
    await rm(work, { recursive: true, force: true })
    await rm(registry.dir, { recursive: true, force: true })
  }
}

await main()
