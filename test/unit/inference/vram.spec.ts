import assert from 'node:assert/strict'
import { estimateVram, GPU_MINIMUM_MEMORY } from '../../../src/inference/vram.js'

const MiB = 1024 * 1024

describe('inference/vram', () => {
  it('estimates as Ollama does: weights, fp16 KV cache at the default context, graph, GPU reserve', () => {
    // llama3.2 3B's GGUF metadata.
    const kv = {
      'llama.block_count': 28,
      'llama.embedding_length': 3072,
      'llama.attention.head_count': 24,
      'llama.attention.head_count_kv': 8,
      'llama.attention.key_length': 128,
      'llama.attention.value_length': 128,
      'llama.context_length': 131072
    }
    const e = estimateVram({ kv, architecture: 'llama' }, 2_019_000_000)
    assert.equal(e.kv, 2 * 4096 * 28 * 256 * 8, '448 MiB of KV cache at 4096 tokens')
    assert.equal(e.kv / MiB, 448)
    assert.equal(e.graph, 3 * e.kv / 6)
    assert.equal(e.total, Math.ceil(2_019_000_000 + e.kv + e.graph + GPU_MINIMUM_MEMORY))
  })

  it('takes head sizes from the embedding when the keys are absent, and a short context as it is', () => {
    const e = estimateVram({ kv: { 'gpt2.block_count': 12, 'gpt2.embedding_length': 768, 'gpt2.attention.head_count': 12, 'gpt2.context_length': 1024 }, architecture: 'gpt2' }, 100)
    assert.equal(e.kv, 2 * 1024 * 12 * (64 + 64) * 12)
    assert.equal(estimateVram({ kv: {}, architecture: 'x' }, 5).total, 5 + GPU_MINIMUM_MEMORY, 'no metadata: the weights and the reserve')
  })
})
