import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'

describe('/metrics', function () {
  this.timeout(30_000)
  let d: RunningDaemon
  before(async () => { d = await startDaemon() })
  after(async () => { await d?.kill() })

  it('serves Prometheus\' text format that promtool accepts, with the cluster, the requests and the process', async () => {
    assert.equal((await fetch(`${d.url}/api/tags`)).status, 200)
    assert.equal((await fetch(`${d.url}/api/cluster/replicate`, { method: 'POST', body: '{}' })).status, 401)
    assert.equal((await fetch(`${d.url}/api/tags`, { headers: { Origin: 'http://evil.example' } })).status, 403)
    const res = await fetch(`${d.url}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    for (const line of [
      'ollamad_cluster_members{state="alive"} 1',
      'ollamad_http_request_duration_seconds_count{route="/api/tags",method="GET",status="200"} 1',
      'ollamad_http_request_duration_seconds_count{route="/api/cluster/replicate",method="POST",status="401"} 1',
      'ollamad_http_requests_refused_total{reason="token"} 1',
      'ollamad_http_requests_refused_total{reason="origin"} 1',
      'ollamad_inference_queue_requests{state="waiting"} 0'
    ]) assert.ok(text.split('\n').includes(line), `missing: ${line}`)
    assert.match(text, /^process_cpu_seconds_total \d/m)
    assert.match(text, /^ollamad_intents \d+$/m)
    // Names, types, help texts and units as Prometheus' own linter wants them.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`)
  })
})
