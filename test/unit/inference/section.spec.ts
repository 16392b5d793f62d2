import assert from 'node:assert/strict'
import { createRecordSections } from '../../../src/cluster/index.js'
import { addInferenceSection } from '../../../src/inference/section.js'
import { createOllamaUpstream } from '../../../src/inference/upstream.js'
import type { GpuFact } from '../../../src/inference/gpu.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { startOllamaStandin, type OllamaStandin } from '../../fixtures/ollama-standin.js'

const GPU: GpuFact = { index: 0, name: 'Test GPU', memoryTotal: 1000, memoryUsed: 10, memoryFree: 990, utilization: 5 }

describe('inference/section', () => {
  let ollama: OllamaStandin
  beforeEach(async () => { ollama = await startOllamaStandin() })
  afterEach(async () => { await ollama.close() })

  it('puts GPUs, the models Ollama has loaded and whether it answers in the record, read at most every 2 s', async () => {
    const clock = createFakeClock()
    const sections = createRecordSections()
    let reads = 0
    addInferenceSection({ sections, clock, gpus: { read: async () => { reads++; return [GPU] } }, upstream: createOllamaUpstream({ url: ollama.url, instanceId: 'test' }) })
    await fetch(`${ollama.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3', prompt: '' }) })
    const facts = await sections.gather()
    assert.equal(facts.ollamaUp, true)
    assert.deepEqual(facts.gpus.map(g => [g.name, g.memoryFree]), [['Test GPU', 990n]])
    assert.deepEqual(facts.loaded.map(l => l.name), ['llama3:latest'])
    await sections.gather()
    assert.equal(reads, 1, 'records go out often; GPUs are read at most every 2 s')
    clock.advance(2_001)
    await sections.gather()
    assert.equal(reads, 2)
  })

  it('refresh reads again at once and marks the record changed', async () => {
    const clock = createFakeClock()
    const sections = createRecordSections()
    let reads = 0
    let changed = 0
    sections.onChange(() => { changed++ })
    const section = addInferenceSection({ sections, clock, gpus: { read: async () => { reads++; return [] } }, upstream: createOllamaUpstream({ url: ollama.url, instanceId: 'test' }) })
    await sections.gather()
    section.refresh()
    await sections.gather()
    assert.equal(reads, 2)
    assert.equal(changed, 1)
  })

  it('says Ollama is down when it does not answer', async () => {
    const sections = createRecordSections()
    addInferenceSection({ sections, clock: createFakeClock(), gpus: { read: async () => [] }, upstream: createOllamaUpstream({ url: 'http://127.0.0.1:9', instanceId: 'test' }) })
    const facts = await sections.gather()
    assert.equal(facts.ollamaUp, false)
    assert.deepEqual(facts.loaded, [])
  })
})
