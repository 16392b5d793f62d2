import assert from 'node:assert/strict'
import { Ollama } from 'ollama'
import { startRegistry, pushModel, makeTinyModel, type RunningRegistry } from '../fixtures/registry.js'
import { startOllamaStandin, type OllamaStandin } from '../fixtures/ollama-standin.js'
import { startCluster } from '../fixtures/cluster.js'
import { tempDir, type RunningDaemon } from '../fixtures/daemon.js'
import { ndjson } from './helpers.js'
import { waitFor } from '../fixtures/wait-for.js'

interface NodeView { name: string, loaded: Array<{ name: string }>, ollama: string }

async function nodesOf (d: RunningDaemon): Promise<NodeView[]> {
  return ((await (await fetch(`${d.url}/api/cluster/nodes`)).json()) as { nodes: NodeView[] }).nodes
}

describe('inference routed across the cluster', function () {
  this.timeout(90_000)
  let registry: RunningRegistry
  let name: string
  const running: RunningDaemon[] = []
  const standins: OllamaStandin[] = []

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/infer', 'latest', makeTinyModel({ seed: 'infer' }))
    name = `${registry.host}/library/infer:latest`
  })
  afterEach(async () => {
    for (const d of running.splice(0)) await d.kill('SIGKILL')
    for (const s of standins.splice(0)) await s.close()
  })
  after(async () => { await registry?.dispose() })

  /** n daemons; `ollama[i]` false leaves node i without an Ollama. Each stand-in knows its node's models directory. */
  const cluster = async (ollama: boolean[]): Promise<Array<{ d: RunningDaemon, s?: OllamaStandin }>> => {
    const dirs = await Promise.all(ollama.map(async () => await tempDir('models')))
    const ss = await Promise.all(ollama.map(async (on, i) => on ? await startOllamaStandin({ modelsDir: dirs[i], delayMs: 2 }) : undefined))
    standins.push(...ss.filter((s): s is OllamaStandin => s !== undefined))
    const { nodes } = await startCluster(ollama.length, (i) => ({ modelsDir: dirs[i], ollama: ss[i]?.url ?? 'http://127.0.0.1:9', args: ['--insecure-registry', registry.host] }))
    running.push(...nodes)
    return nodes.map((d, i) => ({ d, s: ss[i] }))
  }

  it('the npm client chats through a node without the model; the node that has it loaded answers', async () => {
    type N = { d: RunningDaemon, s: OllamaStandin }
    const [one, two, three] = await cluster([true, true, true]) as [N, N, N]
    for (const n of [two, three]) assert.equal((await ndjson(`${n.d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    // Loaded only on node3 (an empty prompt loads, as in Ollama); the records say so after the next facts read.
    await fetch(`${three.s.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name }) })
    await waitFor(async () => (await nodesOf(one.d)).find(n => n.name === 'node3')?.loaded.length === 1, 15_000, 'node3 shows the model loaded')
    const client = new Ollama({ host: one.d.url })
    const parts: string[] = []
    for await (const chunk of await client.chat({ model: name, messages: [{ role: 'user', content: 'hi' }], stream: true })) parts.push(chunk.message.content)
    assert.equal(parts.join(''), 'Hello from the stand-in')
    assert.equal(three.s.requests.filter(r => r.path === '/api/chat').length, 1, 'node3 served it')
    assert.equal(two.s.requests.filter(r => r.path === '/api/chat').length + one.s.requests.filter(r => r.path === '/api/chat').length, 0)
    const res = await fetch(`${one.d.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'x', stream: false }) })
    assert.equal(res.headers.get('x-ollamad-node'), 'node3')
    assert.equal((await res.json() as { response: string }).response, 'Hello from the stand-in')
    // Both hops came on node3's data port, not as libp2p streams.
    const metricsText = await (await fetch(`${three.d.url}/metrics`, { headers: three.d.auth })).text()
    const served = (via: string): number => Number(new RegExp(`ollamad_inference_peer_requests_total\\{via="${via}"\\} (\\d+)`).exec(metricsText)?.[1])
    assert.deepEqual([served('data'), served('stream')], [2, 0])
  })

  it('skips a holder killed before it answers, and fetches a model for a node whose Ollama can run it', async () => {
    const [one, two, three] = await cluster([true, true, false])
    // node3 holds the model but runs no Ollama; node2 holds it and is killed: node1 fetches it and answers.
    for (const n of [two, three]) assert.equal((await ndjson(`${n!.d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await nodesOf(one!.d)).filter(n => n.ollama === 'up').length === 2, 15_000, 'the Ollama states are known')
    await waitFor(async () => ((await (await fetch(`${one!.d.url}/api/tags`)).json()) as { models: Array<{ nodes: string[] }> }).models[0]?.nodes.length === 2, 10_000, 'both holders known')
    await two!.d.kill('SIGKILL')
    const res = await fetch(`${one!.d.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'x', stream: false }) })
    assert.equal(res.status, 200, await res.clone().text())
    assert.equal(res.headers.get('x-ollamad-node'), 'node1')
    assert.equal((await res.json() as { response: string }).response, 'Hello from the stand-in')
    const tags = await (await fetch(`${one!.d.url}/api/tags`)).json() as { models: Array<{ name: string, nodes: string[] }> }
    assert.ok(tags.models.find(m => m.name === name)?.nodes.includes('node1'), 'node1 now holds the model it fetched')
    // The job's state comes from node1's record, which goes out just after the answer.
    const jobs = async (): Promise<unknown> => ((await (await fetch(`${one!.d.url}/api/cluster/jobs`)).json()) as { jobs: Array<{ model: string, state: string, nodes: Array<{ name: string }> }> }).jobs.map(j => [j.model, j.state, j.nodes.map(n => n.name)])
    await waitFor(async () => JSON.stringify(await jobs()) === JSON.stringify([[name, 'completed', ['node1']]]), 10_000, 'the fetch shows as a completed job')
  })

  it('gives Ollama\'s errors for bad input, and OpenAI\'s shape on /v1', async () => {
    const [one] = await cluster([true])
    const bad = await fetch(`${one!.d.url}/api/chat`, { method: 'POST', body: '{"model":' })
    assert.equal(bad.status, 400)
    assert.match((await bad.json() as { error: string }).error, /invalid JSON/)
    const unknown = await fetch(`${one!.d.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'nobody-has-this', prompt: 'x' }) })
    assert.equal(unknown.status, 404)
    assert.deepEqual(await unknown.json(), { error: 'model "nobody-has-this" not found, try pulling it first' })
    const v1 = await fetch(`${one!.d.url}/v1/chat/completions`, { method: 'POST', body: '{}' })
    assert.equal(v1.status, 400)
    const e = await v1.json() as { error: { message: string, type: string } }
    assert.equal(e.error.type, 'invalid_request_error')
    assert.match(e.error.message, /model is required/)
    // The Responses and Messages routes are routed like the others (checked here, not passed on raw).
    for (const path of ['/v1/responses', '/v1/messages']) {
      const r = await fetch(`${one!.d.url}${path}`, { method: 'POST', body: '{}' })
      assert.equal(r.status, 400, path)
      assert.match((await r.json() as { error: { message: string } }).error.message, /model is required/)
    }
    const prio = await fetch(`${one!.d.url}/api/generate`, { method: 'POST', headers: { 'X-Ollamad-Priority': 'urgent' }, body: JSON.stringify({ model: name }) })
    assert.equal(prio.status, 400)
  })

  it('loads and unloads on request, shows every node in ps, and runs async generate jobs', async () => {
    type N = { d: RunningDaemon, s: OllamaStandin }
    const [one, two] = await cluster([true, true]) as [N, N]
    assert.equal((await ndjson(`${two.d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    await waitFor(async () => (await (await fetch(`${one.d.url}/api/tags`)).json() as { models: unknown[] }).models.length === 1, 10_000, 'node1 sees the model')
    // Held only on node2, the listing still has its details, read from node2 over the swarm.
    const tags = await (await fetch(`${one.d.url}/api/tags`)).json() as { models: Array<{ nodes: string[], details: { format: string, family: string } }> }
    assert.deepEqual([tags.models[0]?.nodes, tags.models[0]?.details.format, tags.models[0]?.details.family], [['node2'], 'gguf', 'llama'])
    const load = await fetch(`${one.d.url}/api/cluster/load`, { method: 'POST', headers: one.d.auth, body: JSON.stringify({ model: name }) })
    assert.equal(load.status, 200, await load.clone().text())
    assert.deepEqual(await load.json(), { status: 'success', node: 'node2' })
    assert.deepEqual(two.s.loaded(), [`${registry.host}/library/infer:latest`], 'loaded on node2')
    const ps = async (): Promise<Array<{ name: string, models: Array<{ name: string }> }>> => ((await (await fetch(`${one.d.url}/api/cluster/ps`)).json()) as { nodes: Array<{ name: string, models: Array<{ name: string }> }> }).nodes
    await waitFor(async () => (await ps()).find(n => n.name === 'node2')?.models.length === 1, 10_000, 'ps shows it on node2')
    assert.deepEqual((await ps()).map(n => n.name), ['node1', 'node2'])
    // Ollama's own /api/ps and /v1/models on node1 show the cluster, naming the node.
    const ollamaPs = await (await fetch(`${one.d.url}/api/ps`)).json() as { models: Array<{ name: string, model: string, size_vram: number, expires_at: string, details: { format: string }, node: string }> }
    assert.deepEqual(ollamaPs.models.map(m => [m.name, m.node]), [[`${registry.host}/library/infer:latest`, 'node2']])
    assert.ok(typeof ollamaPs.models[0]?.expires_at === 'string' && typeof ollamaPs.models[0]?.size_vram === 'number')
    const v1 = await (await fetch(`${one.d.url}/v1/models`)).json() as { object: string, data: Array<{ id: string, object: string, owned_by: string, nodes: string[] }> }
    assert.equal(v1.object, 'list')
    assert.deepEqual(v1.data.map(m => [m.id, m.object, m.owned_by, m.nodes]), [[`${registry.host}/library/infer:latest`, 'model', 'library', ['node2']]])
    const unload = await fetch(`${one.d.url}/api/cluster/unload`, { method: 'POST', headers: one.d.auth, body: JSON.stringify({ model: name }) })
    assert.deepEqual(await unload.json(), { status: 'success', nodes: ['node2'] })
    assert.deepEqual(two.s.loaded(), [])
    await waitFor(async () => (await ps()).find(n => n.name === 'node2')?.models.length === 0, 10_000, 'ps shows it unloaded')
    const job = await fetch(`${one.d.url}/api/cluster/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'hi' }) })
    assert.equal(job.status, 202)
    const { id } = await job.json() as { id: string }
    await waitFor(async () => ((await (await fetch(`${one.d.url}/api/cluster/generate/${id}`)).json()) as { state: string }).state === 'completed', 10_000, 'the job completes')
    const done = await (await fetch(`${one.d.url}/api/cluster/generate/${id}`)).json() as { node: string, result: { response: string } }
    assert.equal(done.result.response, 'Hello from the stand-in')
    assert.equal(done.node, 'node2')
    assert.equal((await fetch(`${one.d.url}/api/cluster/load`, { method: 'POST', headers: one.d.auth, body: JSON.stringify({ model: 'nobody-has-this' }) })).status, 404)
  })

  it('priorities reorder a full queue in front of Ollama', async () => {
    const dir = await tempDir('models')
    const s = await startOllamaStandin({ modelsDir: dir, delayMs: 150 })
    standins.push(s)
    const { nodes } = await startCluster(1, () => ({ modelsDir: dir, ollama: s.url, args: ['--insecure-registry', registry.host, '--parallel', '1'] }))
    running.push(...nodes)
    const d = nodes[0] as RunningDaemon
    assert.equal((await ndjson(`${d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const gen = async (prompt: string, priority: string): Promise<void> => {
      const r = await fetch(`${d.url}/api/generate`, { method: 'POST', headers: { 'X-Ollamad-Priority': priority }, body: JSON.stringify({ model: name, prompt }) })
      await r.text()
    }
    const first = gen('first', 'normal')
    await waitFor(() => s.requests.some(r => r.body.includes('"first"')), 5_000, 'the first request runs')
    const low = gen('low', 'low')
    await new Promise(resolve => setTimeout(resolve, 100))
    const high = gen('high', 'high')
    await Promise.all([first, low, high])
    const prompts = s.requests.filter(r => r.path === '/api/generate').map(r => (JSON.parse(r.body) as { prompt: string }).prompt)
    assert.deepEqual(prompts, ['first', 'high', 'low'])
  })

  it('reads GPUs from nvidia-smi and sends a request to the holder with the free VRAM for it', async () => {
    const { mkdir, writeFile, chmod } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const bins: string[] = []
    for (const free of [0, 100, 80_000]) {
      const dir = join(await tempDir('gpu'), 'bin')
      await mkdir(dir)
      await writeFile(join(dir, 'nvidia-smi'), `#!/bin/sh\necho "0, Test GPU, 81920, ${81920 - free}, ${free}, 10"\n`)
      await chmod(join(dir, 'nvidia-smi'), 0o755)
      bins.push(dir)
    }
    const dirs = await Promise.all([0, 1, 2].map(async () => await tempDir('models')))
    const ss = await Promise.all(dirs.map(async m => await startOllamaStandin({ modelsDir: m })))
    standins.push(...ss)
    const { nodes } = await startCluster(3, (i) => ({ modelsDir: dirs[i], ollama: (ss[i] as OllamaStandin).url, env: { PATH: `${bins[i] as string}:${process.env.PATH ?? ''}` }, args: ['--insecure-registry', registry.host] }))
    running.push(...nodes)
    const [a, b, c] = nodes as [RunningDaemon, RunningDaemon, RunningDaemon]
    for (const n of [b, c]) assert.equal((await ndjson(`${n.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const gpusSeen = async (): Promise<boolean> => {
      const r = await (await fetch(`${a.url}/api/cluster/nodes`)).json() as { nodes: Array<{ liveness: string, gpus: Array<{ name: string }> }> }
      return r.nodes.length === 3 && r.nodes.every(n => n.gpus[0]?.name === 'Test GPU' && n.liveness === 'alive')
    }
    await waitFor(gpusSeen, 15_000, 'every node reports its GPU')
    await waitFor(async () => ((await (await fetch(`${a.url}/api/tags`)).json()) as { models: Array<{ nodes: string[] }> }).models[0]?.nodes.length === 2, 10_000, 'both holders known')
    const res = await fetch(`${a.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'x', stream: false }) })
    assert.equal(res.headers.get('x-ollamad-node'), 'node3', `node3 holds it and has 80 GB free; node2 holds it with 100 MiB`)
  })

  it('a full queue answers 503 with Retry-After, and a failure mid-stream ends it with an in-band error', async () => {
    const dir = await tempDir('models')
    const s = await startOllamaStandin({ modelsDir: dir, delayMs: 300 })
    standins.push(s)
    const { nodes } = await startCluster(1, () => ({ modelsDir: dir, ollama: s.url, args: ['--insecure-registry', registry.host, '--parallel', '1', '--max-queue', '1'] }))
    running.push(...nodes)
    const d = nodes[0] as RunningDaemon
    assert.equal((await ndjson(`${d.url}/api/pull`, { model: name })).lines.at(-1)?.status, 'success')
    const gen = async (): Promise<Response> => await fetch(`${d.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: name, prompt: 'x' }) })
    const running1 = await gen()
    const waiting = gen()
    await new Promise(resolve => setTimeout(resolve, 200))
    const refused = await gen()
    assert.equal(refused.status, 503)
    assert.equal(refused.headers.get('retry-after'), '2')
    assert.match((await refused.json() as { error: string }).error, /queue is full/)
    // The first answer is streaming; its Ollama goes away in the middle of it.
    const reader = (running1.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    assert.match(new TextDecoder().decode(first.value), /"response":"Hello"/)
    await s.close()
    let rest = ''
    for (;;) { const r = await reader.read(); if (r.done) break; rest += new TextDecoder().decode(r.value) }
    const last = JSON.parse(rest.trim().split('\n').at(-1) as string) as { error?: string }
    assert.match(last.error ?? '', /failed while answering/)
    await (await waiting).text().catch(() => '')
  })
})
