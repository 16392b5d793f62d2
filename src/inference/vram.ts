import type { GgufInfo } from '../store/index.js'

/**
 * The VRAM a model needs fully offloaded, estimated the way Ollama does in llm/memory.go
 * (EstimateGPULayers): the weights, the fp16 KV cache
 *   2 bytes * num_ctx * block_count * (head_dim_k + head_dim_v) * head_count_kv,
 * the compute graph (Ollama's fallback when it has no per-architecture size: GQA * kv / 6), and
 * the GPU's minimum reserve (CUDA: 457 MiB in Ollama's discovery code).
 */
export const DEFAULT_NUM_CTX = 4096
export const GPU_MINIMUM_MEMORY = 457 * 1024 * 1024

const num = (v: unknown): number | undefined => typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : Array.isArray(v) && typeof v[0] === 'number' ? Math.max(...(v as number[])) : undefined

export interface VramEstimate { total: number, weights: number, kv: number, graph: number }

export function estimateVram (info: Pick<GgufInfo, 'kv' | 'architecture'>, weightBytes: number, numCtx = DEFAULT_NUM_CTX): VramEstimate {
  const k = (name: string): number | undefined => num(info.kv[`${info.architecture}.${name}`])
  const blocks = k('block_count') ?? 0
  const embd = k('embedding_length') ?? 0
  const heads = k('attention.head_count') ?? 0
  const headsKv = k('attention.head_count_kv') ?? heads
  const headK = k('attention.key_length') ?? (heads > 0 ? embd / heads : 0)
  const headV = k('attention.value_length') ?? (heads > 0 ? embd / heads : 0)
  const ctx = Math.min(numCtx, k('context_length') ?? numCtx)
  const kv = 2 * ctx * blocks * (headK + headV) * headsKv
  const gqa = headsKv > 0 ? heads / headsKv : 1
  const graph = gqa * kv / 6
  return { total: Math.ceil(weightBytes + kv + graph + GPU_MINIMUM_MEMORY), weights: weightBytes, kv, graph }
}
