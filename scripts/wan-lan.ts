// bench:wan's second part: the same job where the WAN is slower than the LAN, as on a real site.
// The registry runs in a namespace of its own whose uplink (the "WAN") is shaped to wanMbit; the
// nodes sit on the same bridge with uplinks of lanMbit. One node pulls model A alone; then one
// cluster job pulls model B (the same size, other bytes) to every node. Upstream bytes are the
// WAN uplink's tc counter (on the wire: with TCP/IP and HTTP headers).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { newSwarmKey } from '../src/p2p/index.js'
import { startRegistry } from '../test/fixtures/registry.js'
import { waitFor } from '../test/fixtures/wait-for.js'
import { pushRandomModel, waitForJob, type JobView } from './bench-util.js'
import { createLan, egressBytes, nsJson, nsRun, nsSpawn, shape, startNsDaemon, tempDir, waitForMembers, type NsDaemon } from './netns.js'

export interface WanLanInit { size: number, nodes: number, wanMbit: number, lanMbit: number }
export interface WanLanRun { secs: number, wireBytes: number }
export interface WanLanResult { model: number, one: WanLanRun, cluster: WanLanRun }

const wanSent = async (ns: string): Promise<number> => (await egressBytes([ns]))[0] as number

export async function wanLan (o: WanLanInit): Promise<WanLanResult> {
  const work = tempDir('bench-wan-lan')
  const registry = await startRegistry()
  const a = await pushRandomModel(registry.url, 'library/wan-a', join(work, 'a.bin'), o.size, 11)
  await pushRandomModel(registry.url, 'library/wan-b', join(work, 'b.bin'), o.size, 12)
  await registry.stop()

  const lan = createLan({ prefix: `ollw${process.pid}`, hosts: o.nodes + 1, subnet: '10.78.0', rateMbit: o.lanMbit })
  const [wanNs, wanAddr] = [lan.hosts[0] as string, lan.addrs[0] as string]
  shape(wanNs, 'eth0', o.wanMbit)
  // The same storage, served on the WAN namespace's address.
  const config = join(work, 'registry.yml')
  writeFileSync(config, readFileSync(join(registry.dir, 'config.yml'), 'utf8').replace(/addr: 127\.0\.0\.1:/, `addr: ${wanAddr}:`))
  const reg = nsSpawn(wanNs, '/usr/bin/docker-registry', ['serve', config])
  const daemons: NsDaemon[] = []
  try {
    const host = `${wanAddr}:${registry.port}`
    await waitFor(async () => (await nsRun(lan.hosts[1] as string, 'curl', ['-sf', `http://${host}/v2/`])).code === 0, 15_000, 'the registry across the WAN', { retryErrors: true })
    const key = join(work, 'swarm.key')
    writeFileSync(key, newSwarmKey(), { mode: 0o600 })
    const args = ['--insecure-registry', host]
    const first = await startNsDaemon({ ns: lan.hosts[1] as string, addr: lan.addrs[1] as string, name: 'node1', swarmKey: key, mdns: false, args })
    daemons.push(first)
    daemons.push(...await Promise.all(lan.hosts.slice(2).map(async (ns, i) => await startNsDaemon({ ns, addr: lan.addrs[i + 2] as string, name: `node${i + 2}`, swarmKey: key, mdns: false, bootstrap: [first.p2pAddr], args }))))
    await waitForMembers(daemons)
    const timed = async (fn: () => Promise<void>): Promise<WanLanRun> => {
      const b0 = await wanSent(wanNs)
      const t0 = performance.now()
      await fn()
      return { secs: (performance.now() - t0) / 1000, wireBytes: await wanSent(wanNs) - b0 }
    }
    // One node's pull from the registry, the others idle.
    const one = await timed(async () => {
      const r = await nsRun(first.ns, 'curl', ['-sSf', '--max-time', '900', '-X', 'POST', '--data-binary', JSON.stringify({ model: `${host}/library/wan-a:latest`, stream: false }), `${first.url}/api/pull`])
      if (r.code !== 0 || !r.stdout.includes('success')) throw new Error(`node1's pull: ${r.stderr} ${r.stdout}`)
    })
    const cluster = await timed(async () => {
      const { id } = await nsJson<{ id: string }>(first.ns, `${first.url}/api/cluster/pull`, { model: `${host}/library/wan-b:latest`, nodes: 'all' }, first.token())
      await waitForJob(async (path) => await nsJson<JobView>(first.ns, `${first.url}${path}`), id)
    })
    return { model: a.total, one, cluster }
  } finally {
    for (const d of daemons) await d.stop().catch(() => {})
    reg.kill('SIGTERM')
    lan.destroy()
    await registry.dispose()
  }
}
