import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, pushModel, makeTinyModel, sha256, type RunningRegistry } from '../fixtures/registry.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { startCluster, FAST_LIVENESS } from '../fixtures/cluster.js'
import { ndjson } from './helpers.js'
import { waitFor } from '../fixtures/wait-for.js'
import { chunkCount, chunkRange } from '../../src/store/index.js'

const MiB = 1024 * 1024

/** Waits until `d` sees `n` live peers holding `digestHex`'s blob complete. */
async function waitForHolders (d: RunningDaemon, model: string, n: number): Promise<void> {
  await waitFor(async () => {
    const r = await (await fetch(`${d.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ coverage: string }> }> }
    return (r.models.find(m => m.name === model)?.nodes.filter(x => x.coverage === 'complete').length ?? 0) >= n
  }, 20_000, `${n} holders of ${model}`)
}

const fileSha = async (path: string): Promise<string> => `sha256:${createHash('sha256').update(await readFile(path)).digest('hex')}`

describe('transfer over the swarm', function () {
  this.timeout(120_000)
  let registry: RunningRegistry
  let proxy: CountingProxy
  const model = makeTinyModel({ seed: 'swarm', modelBytes: 24 * MiB })
  const modelDigest = sha256(model.layers[0]?.data as Buffer)
  const running: RunningDaemon[] = []
  let name: string

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/swarm', 'latest', model)
    proxy = await startCountingProxy(registry.url)
    name = `${proxy.host}/library/swarm:latest`
  })
  afterEach(async () => { for (const d of running.splice(0)) await d.kill('SIGKILL') })
  after(async () => {
    await proxy?.close()
    await registry?.dispose()
  })

  it('pulls once from the registry, then from peers, then with the registry stopped', async () => {
    const { nodes } = await startCluster(3, () => ({ args: ['--insecure-registry', proxy.host] }))
    running.push(...nodes)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    const start = proxy.blobBytes()
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const afterFirst = proxy.blobBytes()
    assert.ok(afterFirst - start >= 24 * MiB)
    await waitForHolders(b, name, 1)
    assert.equal((await ndjson(`${b.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    assert.equal(proxy.blobBytes(), afterFirst, 'the second node took no blob bytes from the registry')
    await waitForHolders(c, name, 2)
    // Before c holds it: listed with its holders, shown from a peer, and not deletable here.
    const tags = await (await fetch(`${c.url}/api/tags`)).json() as { models: Array<{ name: string, nodes: string[], size: number }> }
    assert.deepEqual(tags.models.find(m => m.name === name)?.nodes.sort(), ['node1', 'node2'])
    const show = await (await fetch(`${c.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: name }) })).json() as { template: string, details: { family: string } }
    assert.match(show.template, /\{\{ \.Prompt \}\}/)
    assert.equal(show.details.family, 'llama')
    const del = await fetch(`${c.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model: name }) })
    assert.equal(del.status, 404)
    assert.match((await del.json() as { error: string }).error, /held by node[12], node[12] .*--cluster/)
    await proxy.close()
    try {
      const r = await ndjson(`${c.url}/api/pull`, { model: name })
      assert.equal(r.lines.at(-1)?.status, 'success', JSON.stringify(r.lines.at(-1)))
    } finally {
      proxy = await startCountingProxy(registry.url)
      name = `${proxy.host}/library/swarm:latest`
    }
    for (const d of nodes) assert.equal(await fileSha(join(d.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
  })

  it('relays chunks while they arrive, so two pullers share one slow holder', async () => {
    // The holder's uplink is capped, so each chunk takes a while to cross it: long enough for the
    // other puller to see it arriving at the first and take it from there as it comes.
    const { nodes } = await startCluster(3, (i) => ({ args: ['--insecure-registry', proxy.host, ...(i === 0 ? ['--max-upload-rate', '4M'] : [])], env: { OLLAMAD_DEBUG: 'ollamad:transfer*' } }))
    running.push(...nodes)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    await ndjson(`${a.url}/api/pull`, { model: name })
    await waitForHolders(b, name, 1)
    await waitForHolders(c, name, 1)
    const before = proxy.blobBytes()
    const [rb, rc] = await Promise.all([ndjson(`${b.url}/api/pull`, { model: name }), ndjson(`${c.url}/api/pull`, { model: name })])
    assert.equal(rb.lines.at(-1)?.status, 'success', JSON.stringify(rb.lines.at(-1)))
    assert.equal(rc.lines.at(-1)?.status, 'success', JSON.stringify(rc.lines.at(-1)))
    for (const d of [b, c]) assert.equal(await fileSha(join(d.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
    assert.equal(proxy.blobBytes(), before, 'every blob byte came from peers')
    const logs = b.log() + c.log()
    assert.match(logs, new RegExp(`relaying chunk \\d+ of ${modelDigest.slice(7)} to \\S+ as it arrives`))
    assert.match(logs, new RegExp(`chunk \\d+ of ${modelDigest} came from \\S+ as it arrived there`), 'a relayed chunk passed its check and landed')
  })

  /** Two holders (a, b) and a slow third node c, pulling while something happens to a holder. */
  async function twoHoldersAndPuller (): Promise<[RunningDaemon, RunningDaemon, RunningDaemon]> {
    const { nodes } = await startCluster(3, (i) => ({ args: ['--insecure-registry', proxy.host, ...(i === 2 ? ['--max-download-rate', '6M'] : [])] }))
    running.push(...nodes)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    await ndjson(`${a.url}/api/pull`, { model: name })
    await waitForHolders(b, name, 1)
    await ndjson(`${b.url}/api/pull`, { model: name })
    await waitForHolders(c, name, 2)
    return [a, b, c]
  }

  it('finishes from the other holder when a source is killed mid-transfer', async () => {
    const [a, , c] = await twoHoldersAndPuller()
    const before = proxy.blobBytes()
    const pull = ndjson(`${c.url}/api/pull`, { model: name })
    await waitFor(async () => {
      const r = await (await fetch(`${c.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ name: string, coverage: string, percent: number }> }> }
      return (r.models.find(m => m.name === name)?.nodes.find(n => n.name === 'node3')?.percent ?? 0) >= 20
    }, 20_000, 'node3 partly done')
    await a.kill('SIGKILL')
    const r = await pull
    assert.equal(r.lines.at(-1)?.status, 'success', JSON.stringify(r.lines.at(-1)))
    assert.equal(await fileSha(join(c.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
    assert.ok(proxy.blobBytes() - before < 24 * MiB, 'the rest came from the live holder, not the registry')
  })

  it('bans a holder whose blob is corrupt on disk and still gets the right model', async () => {
    const [a, , c] = await twoHoldersAndPuller()
    // Flip bytes inside every chunk of a's copy (Ollama would not notice): whichever chunk the
    // puller asks a for fails its hash, and b still has them all.
    const fh = await open(join(a.modelsDir, 'blobs', modelDigest.replace(':', '-')), 'r+')
    const size = (await fh.stat()).size
    for (let i = 0; i < chunkCount(size); i++) await fh.write(Buffer.from('corrupt!'), 0, 8, chunkRange(size, i).start + 100)
    await fh.close()
    const r = await ndjson(`${c.url}/api/pull`, { model: name })
    assert.equal(r.lines.at(-1)?.status, 'success', JSON.stringify(r.lines.at(-1)))
    assert.equal(await fileSha(join(c.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
    assert.match(c.log(), new RegExp(`banned peer ${a.peerId}`))
    const metrics = await (await fetch(`${c.url}/metrics`)).text()
    assert.match(metrics, /^ollamad_transfer_chunks_rejected_total\{source="peer"\} [1-9]/m, 'the bad chunk is counted')
    assert.match(metrics, /^ollamad_peer_bans_total [1-9]/m)
  })

  it('resumes a pull from peers after the puller restarts, from its bitmap', async () => {
    const [, b, c] = await twoHoldersAndPuller()
    void ndjson(`${c.url}/api/pull`, { model: name }).catch(() => {})
    await waitFor(async () => {
      const r = await (await fetch(`${c.url}/api/cluster/models`)).json() as { models: Array<{ name: string, nodes: Array<{ name: string, percent: number }> }> }
      return (r.models.find(m => m.name === name)?.nodes.find(n => n.name === 'node3')?.percent ?? 0) >= 30
    }, 20_000, 'node3 partly done')
    await c.kill('SIGTERM')
    const key = (/--swarm-key (\S+)/.exec(c.proc.spawnargs.join(' ')) as RegExpExecArray)[1] as string
    const again = await startDaemon({ modelsDir: c.modelsDir, dataDir: c.dataDir, args: ['--swarm-key', key, '--name', 'node3', '--bootstrap', b.p2pAddr, '--insecure-registry', proxy.host, ...FAST_LIVENESS] })
    running.push(again)
    await again.waitForLog(/resuming interrupted pull/)
    await waitFor(async () => (await (await fetch(`${again.url}/api/tags`)).json() as { models: Array<{ name: string, nodes: string[] }> }).models.some(m => m.name === name && m.nodes[0] === 'node3'), 30_000, 'resumed model')
    assert.equal(await fileSha(join(again.modelsDir, 'blobs', modelDigest.replace(':', '-'))), modelDigest)
  })

  it('verify finds a corrupt blob, takes its model out of the catalog and fetches it again from a peer', async () => {
    const [a, b] = await twoHoldersAndPuller()
    const path = join(b.modelsDir, 'blobs', modelDigest.replace(':', '-'))
    const fh = await open(path, 'r+')
    await fh.write(Buffer.from('bitrot'), 0, 6, 4096)
    await fh.close()
    const before = proxy.blobBytes()
    const r = await ndjson(`${b.url}/api/cluster/verify`, {})
    const last = r.lines.at(-1)
    assert.equal(last.status, 'success', JSON.stringify(last))
    assert.deepEqual(last.corrupt, [modelDigest])
    assert.deepEqual(last.repaired, [name])
    assert.ok(r.lines.some(l => l.status === `corrupt ${modelDigest}`))
    assert.equal(await fileSha(path), modelDigest)
    assert.equal(proxy.blobBytes(), before, 'repaired from the peer, not the registry')
    const clean = await ndjson(`${b.url}/api/cluster/verify`, { model: name })
    assert.deepEqual(clean.lines.at(-1).corrupt, [])
  })

  it('moves a large blob peer to peer with the swarm key on, in bounded memory on both sides', async () => {
    const big = makeTinyModel({ seed: 'large', modelBytes: 160 * MiB })
    await pushModel(registry.url, 'library/large', 'latest', big)
    const { nodes } = await startCluster(2, () => ({ args: ['--insecure-registry', proxy.host] }))
    running.push(...nodes)
    const [a, b] = nodes as [RunningDaemon, RunningDaemon]
    const large = `${proxy.host}/library/large:latest`
    assert.equal((await ndjson(`${a.url}/api/pull`, { model: large })).lines.at(-1)?.status, 'success')
    await waitForHolders(b, large, 1)
    const before = proxy.blobBytes()
    assert.equal((await ndjson(`${b.url}/api/pull`, { model: large })).lines.at(-1)?.status, 'success')
    assert.ok(proxy.blobBytes() - before < MiB, 'every chunk came from the peer')
    const digest = sha256(big.layers[0]?.data as Buffer)
    assert.equal(await fileSha(join(b.modelsDir, 'blobs', digest.replace(':', '-'))), digest)
    for (const d of [a, b]) {
      const peak = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${d.proc.pid as number}/status`, 'utf8'))?.[1]) / 1024
      assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB`)
    }
  })
})
