import type { Store } from './store.js'
import type { ModelEntry } from './catalog.js'
import { MAX_SMALL_BLOB_BYTES } from './constants.js'

export const MEDIA = {
  model: 'application/vnd.ollama.image.model',
  adapter: 'application/vnd.ollama.image.adapter',
  projector: 'application/vnd.ollama.image.projector',
  template: 'application/vnd.ollama.image.template',
  prompt: 'application/vnd.ollama.image.prompt',
  system: 'application/vnd.ollama.image.system',
  params: 'application/vnd.ollama.image.params',
  license: 'application/vnd.ollama.image.license',
  messages: 'application/vnd.ollama.image.messages'
} as const

/** The fields of Ollama's config blob that clients see as `details`. */
export interface ModelConfig {
  model_format?: string
  model_family?: string
  model_families?: string[] | null
  model_type?: string
  file_type?: string
  context_length?: number
  embedding_length?: number
  capabilities?: string[]
  [k: string]: unknown
}

export interface ModelDetails {
  parent_model: string
  format: string
  family: string
  families: string[] | null
  parameter_size: string
  quantization_level: string
}

const cache = new Map<string, ModelConfig>()

/** Reads and caches a model's config blob; a missing or malformed one reads as empty. */
export async function readModelConfig (store: Store, entry: ModelEntry): Promise<ModelConfig> {
  const d = entry.manifest.config.digest
  const hit = cache.get(d)
  if (hit !== undefined) return hit
  let cfg: ModelConfig = {}
  try {
    const v = JSON.parse((await store.readBlob(d, MAX_SMALL_BLOB_BYTES)).toString('utf8')) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) cfg = v as ModelConfig
  } catch { return cfg }
  if (cache.size > 1000) cache.clear()
  cache.set(d, cfg)
  return cfg
}

const str = (v: unknown): string => typeof v === 'string' ? v : ''

export function modelDetails (entry: ModelEntry, cfg: ModelConfig): ModelDetails {
  const modelLayer = entry.manifest.layers.find(l => l.mediaType === MEDIA.model)
  return {
    parent_model: modelLayer?.from ?? '',
    format: str(cfg.model_format),
    family: str(cfg.model_family),
    families: Array.isArray(cfg.model_families) ? cfg.model_families.filter(f => typeof f === 'string') : null,
    parameter_size: str(cfg.model_type),
    quantization_level: str(cfg.file_type)
  }
}
