import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { startRegistry, pushModel, makeTinyModel } from '../fixtures/registry.js'
import { startCluster } from '../fixtures/cluster.js'
import { waitFor } from '../fixtures/wait-for.js'
import { startOllamaStandin, type OllamaStandin } from '../fixtures/ollama-standin.js'

/** The value of one sample in Prometheus' text format, 0 when absent. */
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}
const scrape = async (d: RunningDaemon): Promise<string> => await (await fetch(`${d.url}/metrics`)).text()

describe('/metrics', function () {
  this.timeout(30_000)
  let d: RunningDaemon
  let standin: OllamaStandin
  before(async () => {
    standin = await startOllamaStandin()
    d = await startDaemon({ ollama: standin.url, args: ['--name', 'metered'] })
  })
  after(async () => {
    await d?.kill()
    await standin?.close()
  })

  it('serves Prometheus\' text format that promtool accepts, with the cluster, the requests and the process', async () => {
    assert.equal((await fetch(`${d.url}/api/tags`)).status, 200)
    assert.equal((await fetch(`${d.url}/api/cluster/replicate`, { method: 'POST', body: '{}' })).status, 401)
    assert.equal((await fetch(`${d.url}/api/tags`, { headers: { Origin: 'http://evil.example' } })).status, 403)
    const gen = await fetch(`${d.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'tiny', prompt: 'hi', stream: false }) })
    assert.equal(gen.status, 200, await gen.text())
    const res = await fetch(`${d.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    for (const line of [
      'ollamad_cluster_members{state="alive"} 1',
      'ollamad_http_request_duration_seconds_count{route="/api/tags",method="GET",status="200",node=""} 1',
      'ollamad_http_request_duration_seconds_count{route="/api/cluster/replicate",method="POST",status="401",node=""} 1',
      'ollamad_http_requests_refused_total{reason="token"} 1',
      'ollamad_http_request_duration_seconds_count{route="/api/generate",method="POST",status="200",node="metered"} 1',
      'ollamad_http_requests_refused_total{reason="origin"} 1',
      'ollamad_inference_queue_requests{state="waiting"} 0'
    ]) assert.ok(text.split('\n').includes(line), `missing: ${line}`)
    assert.match(text, /^process_cpu_seconds_total \d/m)
    assert.match(text, /^ollamad_intents \d+$/m)
    // Names, types, help texts and units as Prometheus' own linter wants them.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`)
  })

  it('counts blob bytes by source, bytes sent to peers and records heard, across a real pull from a peer', async () => {
    const registry = await startRegistry()
    const { nodes } = await startCluster(2, () => ({ args: ['--insecure-registry', registry.host] }))
    try {
      const [a, b] = nodes as [RunningDaemon, RunningDaemon]
      await pushModel(registry.url, 'library/counted', 'latest', makeTinyModel({ seed: 'counted', modelBytes: 12 * 1024 * 1024 }))
      const model = `${registry.host}/library/counted:latest`
      const pull = async (d: RunningDaemon): Promise<void> => {
        const r = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
        assert.equal(r.status, 200, await r.text())
      }
      await pull(a)
      await waitFor(async () => sample(await scrape(b), 'ollamad_model_copies{model="' + model + '"}') === 1, 20_000, 'b sees a holding the model')
      await pull(b)
      const [ma, mb] = [await scrape(a), await scrape(b)]
      assert.ok(sample(ma, 'ollamad_transfer_received_bytes_total{source="registry"}') >= 12 * 1024 * 1024)
      assert.ok(sample(mb, 'ollamad_transfer_received_bytes_total{source="peer"}') >= 12 * 1024 * 1024, 'b took the blob from a')
      assert.ok(sample(ma, 'ollamad_transfer_sent_bytes_total') >= 12 * 1024 * 1024, 'a counted what it served')
      assert.equal(sample(mb, 'ollamad_transfer_received_bytes_total{source="registry"}') < 1024 * 1024, true)
      assert.ok(sample(mb, 'ollamad_gossip_records_total{result="merged"}') > 0)
      assert.ok(sample(mb, 'ollamad_gossip_messages_total{event="sent"}') > 0 && sample(mb, 'ollamad_gossip_messages_total{event="received"}') > 0)
      assert.match(mb, /^ollamad_gossip_messages_total\{event="dropped"\} 0$/m)
      assert.match(mb, /^ollamad_transfer_chunks_rejected_total\{source="peer"\} 0$/m, 'no bad chunk here')
      assert.equal(sample(mb, 'ollamad_cluster_members{state="alive"}'), 2)
      assert.equal(sample(mb, 'ollamad_peer_bans_total'), 0)
      // A cluster pull job: node1's part shows as completed in its metrics.
      const job = await fetch(`${a.url}/api/cluster/pull`, { method: 'POST', headers: a.auth, body: JSON.stringify({ model, nodes: ['node1'] }) })
      assert.equal(job.status, 202, await job.text())
      await waitFor(async () => sample(await scrape(a), 'ollamad_jobs{state="completed"}') === 1, 20_000, 'the job part counted as completed')
    } finally {
      for (const d of nodes) await d.kill()
      await registry.dispose()
    }
  })
})
