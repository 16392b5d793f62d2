import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import tls from 'node:tls'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import type { RunningDaemon } from '../fixtures/daemon.js'
import { clusterNodes, startCluster } from '../fixtures/cluster.js'
import { ndjson } from './helpers.js'
import { waitFor } from '../fixtures/wait-for.js'
import { createDataIdentity } from '../../src/p2p/index.js'

const MiB = 1024 * 1024
const DEBUG = { OLLAMAD_DEBUG: 'ollamad:p2p:data' }

const dataPort = (d: RunningDaemon): number => Number(/data plane on [^\s;]+:(\d+)/.exec(d.log())?.[1])
const dataConnectionsFrom = (holder: RunningDaemon, peer: RunningDaemon): number =>
  holder.log().split('\n').filter(l => l.includes(`data connection from ${peer.peerId}`)).length

/** Blob requests a daemon served from peers so far, by the way they came (its /metrics). */
async function served (d: RunningDaemon, via: 'data' | 'stream'): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text()
  return Number(new RegExp(`^ollamad_transfer_requests_served_total\\{via="${via}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN)
}

async function waitForHolder (d: RunningDaemon, model: string): Promise<void> {
  await waitFor(async () => {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    return r.models.some(m => m.name === model && m.nodes.some(x => x.coverage === 'complete'))
  }, 20_000, `a holder of ${model}`)
}

/** Opens TLS to a data port as an outsider and reports how many bytes it got before the port hung up. */
async function knock (port: number, identity?: { cert: string, key: string }): Promise<number> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['ollamad-data/1'], ...identity })
  socket.on('error', () => {})
  let got = 0
  socket.on('data', (d: Buffer) => { got += d.byteLength })
  socket.on('secureConnect', () => { socket.write(randomBytes(16)) })
  await new Promise(resolve => socket.once('close', resolve))
  return got
}

describe('the data plane between daemons', function () {
  this.timeout(120_000)
  let registry: RunningRegistry
  let proxy: CountingProxy
  const model = makeTinyModel({ seed: 'data-plane', modelBytes: 20 * MiB })
  let name: string
  const running: RunningDaemon[] = []

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/dp', 'latest', model)
    proxy = await startCountingProxy(registry.url)
    name = `${proxy.host}/library/dp:latest`
  })
  afterEach(async () => { for (const d of running.splice(0)) await d.kill('SIGKILL') })
  after(async () => {
    await proxy?.close()
    await registry?.dispose()
  })

  it('takes requests and chunk bytes over TLS between members, and over libp2p to and from a node without it', async () => {
    const { nodes } = await startCluster(3, (i) => ({ args: ['--insecure-registry', proxy.host, ...(i === 2 ? ['--no-data-plane'] : [])], env: DEBUG }))
    running.push(...nodes)
    const [a, b, old] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    assert.ok(dataPort(a) > 0 && dataPort(b) > 0, 'both listen for data')
    assert.ok(!/data plane on/.test(old.log()), 'the node without it says nothing of one')
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const fromRegistry = proxy.blobBytes()
    await waitForHolder(b, name)
    assert.equal((await ndjson(`${b.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    assert.ok(dataConnectionsFrom(a, b) >= 1, 'b took its chunks over a data connection')
    assert.match(a.log(), new RegExp(`data connection from ${b.peerId} at \\S+ \\(ollamad-data\\/2\\)`), 'one that carries the requests too')
    assert.ok(await served(a, 'data') >= 3, `every chunk asked on it: ${await served(a, 'data')}`)
    assert.equal(await served(a, 'stream'), 0, 'no blob request over libp2p')
    assert.equal(proxy.blobBytes(), fromRegistry, 'and none from the registry')
    // A node that predates the data plane asks without it; the holders answer on the stream.
    assert.equal((await ndjson(`${old.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    assert.equal(dataConnectionsFrom(a, old) + dataConnectionsFrom(b, old), 0)
    assert.ok(await served(a, 'stream') + await served(b, 'stream') > 0, 'its requests came over libp2p')
    assert.equal(proxy.blobBytes(), fromRegistry)
    const tags = await (await fetch(`${old.url}/api/tags`)).json() as { models: Array<{ name: string }> }
    assert.ok(tags.models.some(m => m.name === name))
  })

  it('gives a TLS client outside the swarm nothing, with or without a libp2p certificate', async () => {
    const { nodes } = await startCluster(2, () => ({ env: DEBUG }))
    running.push(...nodes)
    const [a] = nodes as [RunningDaemon]
    // With a member connected from 127.0.0.1, the outsider gets past the address check to the handshake.
    await waitFor(async () => (await clusterNodes(a)).filter(n => n.liveness === 'alive').length === 2, 20_000, 'the two nodes connected')
    const port = dataPort(a)
    assert.equal(await knock(port), 0, 'no certificate')
    assert.equal(await knock(port, await createDataIdentity(await generateKeyPair('Ed25519'))), 0, 'a stranger\'s certificate')
    await waitFor(() => /is not a member now/.test(a.log()), 10_000, 'the refusal logged')
    assert.equal((await fetch(`${a.url}/api/tags`)).status, 200)
  })
})
