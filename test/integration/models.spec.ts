import assert from 'node:assert/strict'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Ollama } from 'ollama'
import { startRegistry, pushModel, makeTinyModel, sha256, type RunningRegistry } from '../fixtures/registry.js'
import { buildGguf } from '../fixtures/gguf.js'
import { startDaemon, type RunningDaemon } from '../fixtures/daemon.js'
import { post, readManifest, tree } from './helpers.js'

describe('model management through the Ollama API', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let daemon: RunningDaemon
  let ollama: Ollama
  let base: string
  const tiny = makeTinyModel({ seed: 'models' })
  const blobPath = (d: string): string => join(daemon.modelsDir, 'blobs', d.replace(':', '-'))
  const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)

  before(async () => {
    registry = await startRegistry()
    await pushModel(registry.url, 'library/tiny', 'latest', tiny)
    daemon = await startDaemon({ args: ['--insecure-registry', registry.host] })
    ollama = new Ollama({ host: daemon.url })
    base = `${registry.host}/library/tiny:latest`
    await ollama.pull({ model: base })
  })
  after(async () => {
    await daemon?.kill()
    await registry?.dispose()
  })

  it('copies a model as the same manifest bytes under a new name', async () => {
    assert.deepEqual(await ollama.copy({ source: base, destination: 'mycopy' }), { status: 'success' })
    const [h, p] = registry.host.split(':') as [string, string]
    assert.deepEqual(await readManifest(daemon.modelsDir, 'registry.ollama.ai', 'library', 'mycopy', 'latest'), await readManifest(daemon.modelsDir, `${h}:${p}`, 'library', 'tiny', 'latest'))
    const names = (await ollama.list()).models.map(m => m.name)
    assert.ok(names.includes('mycopy:latest') && names.includes(base), names.join(','))
  })

  it('deletes a copy without touching blobs the original still uses, then the original with its blobs', async () => {
    await ollama.delete({ model: 'mycopy' })
    assert.equal(await exists(join(daemon.modelsDir, 'manifests', 'registry.ollama.ai', 'library', 'mycopy')), false)
    for (const l of tiny.layers) assert.ok(await exists(blobPath(sha256(l.data))))
    const r = await post(`${daemon.url}/api/delete`, { model: 'mycopy' }, 'DELETE')
    assert.equal(r.status, 404)
    assert.deepEqual(r.json(), { error: "model 'mycopy' not found" })
  })

  it('creates a model from another with template, system, parameters and license, reusing its layers', async () => {
    const r = await post(`${daemon.url}/api/create`, {
      model: 'assistant:v1',
      from: base,
      system: 'You are terse.',
      template: '{{ .System }} {{ .Prompt }}',
      parameters: { temperature: 0.2, stop: ['<|end|>'] },
      license: 'MIT'
    })
    assert.equal(r.status, 200)
    const statuses = r.text.trim().split('\n').map(l => JSON.parse(l).status as string)
    assert.ok(statuses.includes(`using existing layer ${sha256(tiny.layers[0]?.data as Buffer)}`), statuses.join('\n'))
    assert.ok(statuses.some(s => /^creating new layer sha256:[0-9a-f]{64}$/.test(s)))
    assert.deepEqual(statuses.slice(-2), ['writing manifest', 'success'])
    const show = await ollama.show({ model: 'assistant:v1' })
    assert.equal(show.system, 'You are terse.')
    assert.equal(show.template, '{{ .System }} {{ .Prompt }}')
    assert.equal(show.license, 'MIT')
    assert.match(show.parameters, /^temperature\s+0\.2$/m)
    assert.match(show.parameters, /^stop\s+"<\|end\|>"$/m)
    assert.equal(show.details.parent_model, base.replace(':latest', ':latest'))
    assert.deepEqual(show.capabilities, ['completion'])
    // Capabilities as Ollama derives them from the template: tools, insert (a suffix), thinking.
    const thinker = await post(`${daemon.url}/api/create`, { model: 'thinker:v1', from: base, template: '{{ if .Tools }}{{ .Tools }}{{ end }}{{ .Prompt }}{{ .Suffix }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}', stream: false })
    assert.equal(thinker.status, 200, thinker.text)
    assert.deepEqual((await ollama.show({ model: 'thinker:v1' })).capabilities, ['completion', 'tools', 'insert', 'thinking'])
    // The params layer is Ollama's own serialisation: sorted keys, escaped, one newline.
    const manifest = JSON.parse((await readManifest(daemon.modelsDir, 'registry.ollama.ai', 'library', 'assistant', 'v1')).toString())
    const params = manifest.layers.find((l: { mediaType: string }) => l.mediaType === 'application/vnd.ollama.image.params')
    assert.equal((await readFile(blobPath(params.digest))).toString(), '{"stop":["\\u003c|end|\\u003e"],"temperature":0.2}\n')
  })

  it('creates a model from an uploaded GGUF blob, reading its details from the file', async () => {
    const gguf = buildGguf({ architecture: 'qwen2', fileType: 7, tensors: [{ name: 'w', dims: [1000, 2000] }] })
    const digest = sha256(gguf)
    assert.equal((await fetch(`${daemon.url}/api/blobs/${digest}`, { method: 'HEAD' })).status, 404)
    assert.equal((await fetch(`${daemon.url}/api/blobs/${digest}`, { method: 'POST', body: gguf })).status, 201)
    assert.equal((await fetch(`${daemon.url}/api/blobs/${digest}`, { method: 'HEAD' })).status, 200)
    assert.equal((await fetch(`${daemon.url}/api/blobs/${digest}`, { method: 'POST', body: gguf })).status, 200)
    // Uploaded but unused: not in blobs/, where Ollama's startup prune would delete it.
    assert.equal(await exists(blobPath(digest)), false)
    const r = await post(`${daemon.url}/api/create`, { model: 'fromfile', files: { 'model.gguf': digest }, stream: false })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.json(), { status: 'success' })
    assert.equal(await exists(blobPath(digest)), true)
    const entry = (await ollama.list()).models.find(m => m.name === 'fromfile:latest')
    assert.equal(entry?.details.family, 'qwen2')
    assert.equal(entry?.details.parameter_size, '2M')
    assert.equal(entry?.details.quantization_level, 'Q8_0')
  })

  it('refuses a blob upload whose bytes do not match the digest, keeping nothing', async () => {
    const before = await tree(daemon.modelsDir)
    const wrong = `sha256:${'0'.repeat(64)}`
    const res = await fetch(`${daemon.url}/api/blobs/${wrong}`, { method: 'POST', body: 'not those bytes' })
    assert.equal(res.status, 400)
    assert.match((await res.json() as { error: string }).error, /^digest mismatch, expected "sha256:0{64}", got "sha256:[0-9a-f]{64}"$/)
    assert.deepEqual(await tree(daemon.modelsDir), before)
  })

  it('pushes a local model to the registry, and it pulls back identical', async () => {
    const target = `${registry.host}/team/assistant:v1`
    await ollama.copy({ source: 'assistant:v1', destination: target })
    const lines = (await post(`${daemon.url}/api/push`, { model: target, insecure: true })).text.trim().split('\n').map(l => JSON.parse(l))
    assert.equal(lines[0].status, 'retrieving manifest')
    assert.ok(lines.some(l => typeof l.status === 'string' && l.status.startsWith('pushing ') && l.digest !== undefined))
    assert.deepEqual(lines.slice(-2).map(l => l.status), ['pushing manifest', 'success'])
    const [h, p] = registry.host.split(':') as [string, string]
    const local = await readManifest(daemon.modelsDir, `${h}:${p}`, 'team', 'assistant', 'v1')
    const remote = Buffer.from(await (await fetch(`${registry.url}/v2/team/assistant/manifests/v1`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).arrayBuffer())
    assert.deepEqual(remote, local)
    await ollama.delete({ model: target })
    assert.deepEqual(await ollama.pull({ model: target }), { status: 'success' })
    assert.deepEqual(await readManifest(daemon.modelsDir, `${h}:${p}`, 'team', 'assistant', 'v1'), local)
  })

  describe('bad input changes nothing', () => {
    let before: Record<string, number>
    beforeEach(async () => { before = await tree(daemon.modelsDir) })
    afterEach(async () => { assert.deepEqual(await tree(daemon.modelsDir), before) })

    const cases: Array<[string, string, string, unknown, number, string | RegExp]> = [
      ['a traversal name in pull', 'POST', '/api/pull', { model: '../../etc/passwd' }, 400, 'invalid model name'],
      ['a traversal name in show', 'POST', '/api/show', { model: 'a/../../b' }, 400, 'invalid model name'],
      ['a traversal name in delete', 'DELETE', '/api/delete', { model: '..' }, 400, 'name ".." is invalid'],
      ['a traversal destination in copy', 'POST', '/api/copy', { source: 'assistant:v1', destination: 'x/../../y' }, 400, 'destination "x/../../y" is invalid'],
      ['a traversal name in create', 'POST', '/api/create', { model: '../x', from: 'assistant:v1' }, 400, 'invalid model name'],
      ['a traversal file path in create', 'POST', '/api/create', { model: 'x', files: { '../a.gguf': `sha256:${'a'.repeat(64)}` } }, 400, 'file path must be relative'],
      ['a bad digest in create', 'POST', '/api/create', { model: 'x', files: { 'a.gguf': 'sha256:../../etc' } }, 400, 'invalid digest format'],
      ['an empty name in show', 'POST', '/api/show', { model: '' }, 400, 'model is required'],
      ['a wrongly typed field', 'POST', '/api/pull', { model: 'x', insecure: 'yes' }, 400, 'field "insecure" must be a boolean'],
      ['malformed JSON', 'POST', '/api/show', '{"model": ', 400, /^invalid JSON/],
      ['an empty body', 'POST', '/api/pull', '', 400, 'missing request body'],
      ['a JSON array body', 'POST', '/api/copy', '[]', 400, 'request body must be a JSON object'],
      ['an unknown model in show', 'POST', '/api/show', { model: 'nope' }, 404, "model 'nope:latest' not found"],
      ['an unknown source in copy', 'POST', '/api/copy', { source: 'nope', destination: 'x' }, 404, 'model "nope" not found'],
      ['quantize, which ollamad cannot do', 'POST', '/api/create', { model: 'q', from: 'assistant:v1', quantize: 'q4_K_M' }, 400, /^quantization is not supported/]
    ]
    for (const [what, method, path, body, status, error] of cases) {
      it(`answers ${status} for ${what}`, async () => {
        const r = await post(`${daemon.url}${path}`, body, method)
        assert.equal(r.status, status, r.text)
        assert.match(r.type, /application\/json/)
        const msg = r.json().error as string
        if (typeof error === 'string') assert.equal(msg, error)
        else assert.match(msg, error)
      })
    }

    it('answers 400 for a bad digest in the blob routes', async () => {
      for (const d of ['sha256:..%2F..%2Fetc', 'sha256-XYZ', 'md5:abc', `sha256:${'A'.repeat(64)}`]) {
        for (const method of ['HEAD', 'POST']) {
          const res = await fetch(`${daemon.url}/api/blobs/${d}`, { method, body: method === 'POST' ? 'x' : undefined })
          assert.equal(res.status, 400, `${method} ${d}`)
        }
      }
    })

    it('answers 400 for an oversized body and keeps serving', async () => {
      const res = await fetch(`${daemon.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'x', pad: 'a'.repeat(9 * 1024 * 1024) }) })
      assert.equal(res.status, 400)
      assert.match((await res.json() as { error: string }).error, /too large/)
      assert.equal((await fetch(`${daemon.url}/api/tags`)).status, 200)
    })
  })

  it('frees every blob once the last model that uses it is deleted', async () => {
    for (const m of (await ollama.list()).models) await ollama.delete({ model: m.name })
    assert.deepEqual((await ollama.list()).models, [])
    assert.deepEqual(await readdir(join(daemon.modelsDir, 'blobs')), [])
    assert.deepEqual(await readdir(join(daemon.modelsDir, 'manifests')), [])
  })

  describe('at the end', () => {
    it('frees every blob once the last model that uses it is deleted', async () => {
      for (const m of (await ollama.list()).models) await ollama.delete({ model: m.name })
      assert.deepEqual((await ollama.list()).models, [])
      assert.deepEqual(await readdir(join(daemon.modelsDir, 'blobs')), [])
      assert.deepEqual(await readdir(join(daemon.modelsDir, 'manifests')), [])
    })
  })
})
