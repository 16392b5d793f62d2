import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newSwarmKey } from '../../src/p2p/index.js'
import { FAST_LIVENESS, type NodeJson } from '../fixtures/cluster.js'
import { createLan, netnsUnavailable, nsJson, startNsDaemon, tempDir, type Lan, type NsDaemon } from '../../scripts/netns.js'
import { waitFor } from '../fixtures/wait-for.js'

const writeKey = (label: string): string => {
  const path = join(tempDir(label), 'swarm.key')
  writeFileSync(path, newSwarmKey(), { mode: 0o600 })
  return path
}

const nodesSeenBy = async (d: NsDaemon): Promise<NodeJson[]> =>
  (await nsJson<{ nodes: NodeJson[] }>(d.ns, `${d.url}/api/cluster/nodes`)).nodes

// mdns multicasts, so it runs only on a bridge inside namespaces this test makes (10.77.1.0/24).
describe('mdns discovery inside network namespaces', function () {
  this.timeout(90_000)
  let lan: Lan | undefined
  const running: NsDaemon[] = []

  before(function () {
    const why = netnsUnavailable()
    if (why !== undefined) {
      process.stdout.write(`      skipping mdns discovery: ${why}\n`)
      this.skip()
    }
    lan = createLan({ prefix: `ollt${process.pid}`, hosts: 4, subnet: '10.77.1' })
  })
  after(async () => {
    await Promise.all(running.splice(0).map(async d => { await d.stop() }))
    lan?.destroy()
  })

  it('finds every node that shares the swarm key with no bootstrap address, and refuses one with another key', async () => {
    const l = lan as Lan
    const key = writeKey('swarmkey')
    const members: NsDaemon[] = []
    for (let i = 0; i < 3; i++) {
      members.push(await startNsDaemon({ ns: l.hosts[i] as string, addr: l.addrs[i] as string, name: `mdns${i + 1}`, swarmKey: key, mdns: true, args: FAST_LIVENESS }))
      running.push(members[i] as NsDaemon)
    }
    const stranger = await startNsDaemon({ ns: l.hosts[3] as string, addr: l.addrs[3] as string, name: 'stranger', swarmKey: writeKey('otherkey'), mdns: true, args: FAST_LIVENESS })
    running.push(stranger)
    for (const d of members) {
      await waitFor(async () => (await nodesSeenBy(d)).filter(n => n.liveness === 'alive').length === 3, 30_000, `${d.name} to see 3 live nodes`, { retryErrors: true })
    }
    for (const d of members) {
      assert.deepEqual((await nodesSeenBy(d)).map(n => n.name).sort(), ['mdns1', 'mdns2', 'mdns3'], d.log())
    }
    assert.deepEqual((await nodesSeenBy(stranger)).map(n => n.name), ['stranger'])
  })
})
