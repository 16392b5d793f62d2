import { createHash } from 'node:crypto'
import { OllamadError } from '../../errors.js'
import { displayName, modelDetails, MEDIA, MAX_SMALL_BLOB_BYTES, readGguf, type Digest, type Manifest, type ModelConfig, type ModelEntry, type ModelName, type Store, type GgufInfo } from '../../store/index.js'
import { readJson, sendJson, badRequest, modelField, optBool } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import { formatParameters, renderModelfile } from '../modelfile.js'
import { tensorTypeName } from '../tensor-types.js'
import { clusterHolders } from './models.js'
import type { Router } from '../router.js'

/** Where /api/show reads a model from: this node's store, or a peer that holds it. */
interface ModelSource {
  name: ModelName
  manifest: Manifest
  modifiedAt: Date
  readSmall: (d: Digest) => Promise<Buffer | undefined>
  gguf: () => Promise<GgufInfo | undefined>
}

const ggufCache = new Map<string, GgufInfo>()

function localSource (store: Store, entry: ModelEntry): ModelSource {
  return {
    name: entry.name,
    manifest: entry.manifest,
    modifiedAt: entry.modifiedAt,
    readSmall: async (d) => await store.readBlob(d, MAX_SMALL_BLOB_BYTES).catch(() => undefined),
    gguf: async () => {
      const layer = entry.manifest.layers.find(l => l.mediaType === MEDIA.model)
      if (layer === undefined) return undefined
      const hit = ggufCache.get(layer.digest)
      if (hit !== undefined) return hit
      try {
        const info = await readGguf(store.layout.blob(layer.digest))
        if (ggufCache.size > 64) ggufCache.clear()
        ggufCache.set(layer.digest, info)
        return info
      } catch { return undefined }
    }
  }
}

/** A model only other nodes hold: its manifest and small layers come over the swarm, checked by digest. */
async function remoteSource (c: ApiComponents, name: ModelName, signal: AbortSignal): Promise<ModelSource | undefined> {
  const got = await c.swarm.manifestFor(name, signal).catch(() => undefined)
  if (got === undefined) return undefined
  const copies = [...clusterHolders(c.state.members()).values()].filter(h => h.digest === got.digest.slice(7))
  const holders = copies.flatMap(h => h.ids)
  const size = (d: Digest): number => [got.manifest.config, ...got.manifest.layers].find(l => l.digest === d)?.size ?? 0
  const when = copies[0]?.pulledAt ?? Date.now()
  return {
    name,
    manifest: got.manifest,
    modifiedAt: new Date(when),
    gguf: async () => undefined,
    readSmall: async (d) => {
      if (size(d) > MAX_SMALL_BLOB_BYTES) return undefined
      for (const peer of holders) {
        try {
          const bytes = Buffer.from(await c.swarm.client.chunk(peer, d, 0, size(d), { signal }))
          if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` === d) return bytes
        } catch {}
      }
      return undefined
    }
  }
}

/** Ollama's capability rules: from the GGUF keys, the template and projector layers. */
function capabilities (m: Manifest, gguf: GgufInfo | undefined, template: string, cfg: ModelConfig): string[] {
  if (gguf === undefined && Array.isArray(cfg.capabilities)) return cfg.capabilities
  const caps: string[] = []
  const arch = gguf?.architecture ?? ''
  if (gguf !== undefined) caps.push(`${arch}.pooling_type` in gguf.kv ? 'embedding' : 'completion')
  if (template.includes('.Tools')) caps.push('tools')
  if (template.includes('.Suffix')) caps.push('insert')
  if ((gguf !== undefined && `${arch}.vision.block_count` in gguf.kv) || m.layers.some(l => l.mediaType === MEDIA.projector)) caps.push('vision')
  // Ollama infers thinking from a template that renders .Thinking between tags, or the gpt-oss family.
  if (/\.Thinking\b/.test(template) || ['gptoss', 'gpt-oss'].includes(cfg.model_family ?? '') || (gguf !== undefined && ['gptoss', 'gpt-oss'].includes(arch))) caps.push('thinking')
  return caps
}

function modelInfo (gguf: GgufInfo | undefined, verbose: boolean): Record<string, unknown> {
  if (gguf === undefined) return {}
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(gguf.kv)) {
    if (k === 'general.name' || k === 'tokenizer.chat_template') continue
    out[k] = Array.isArray(v) && v.length > 5 && !verbose ? [] : v
  }
  out['general.parameter_count'] = gguf.parameterCount
  return out
}

async function showResponse (src: ModelSource, blobPath: (d: Digest) => string, verbose: boolean): Promise<Record<string, unknown>> {
  const m = src.manifest
  const texts = async (media: string): Promise<string[]> => {
    const out: string[] = []
    for (const l of m.layers.filter(x => x.mediaType === media)) {
      const b = await src.readSmall(l.digest)
      if (b !== undefined) out.push(b.toString('utf8'))
    }
    return out
  }
  const json = async <T>(media: string, fallback: T): Promise<T> => {
    const l = m.layers.find(x => x.mediaType === media)
    const b = l === undefined ? undefined : await src.readSmall(l.digest)
    try { return b === undefined ? fallback : JSON.parse(b.toString('utf8')) as T } catch { return fallback }
  }
  const cfgBytes = await src.readSmall(m.config.digest)
  let cfg: ModelConfig = {}
  try { if (cfgBytes !== undefined) cfg = JSON.parse(cfgBytes.toString('utf8')) as ModelConfig } catch {}
  const template = (await texts(MEDIA.template))[0] ?? (await texts(MEDIA.prompt))[0]
  const system = (await texts(MEDIA.system))[0]
  const licenses = await texts(MEDIA.license)
  const params = await json<Record<string, unknown>>(MEDIA.params, {})
  const messages = await json<Array<{ role: string, content: string }>>(MEDIA.messages, [])
  const gguf = await src.gguf()
  const paths = (media: string): string[] => m.layers.filter(l => l.mediaType === media).map(l => blobPath(l.digest))
  const parameters = formatParameters(params)
  const entry = { name: src.name, manifest: m, modifiedAt: src.modifiedAt } as ModelEntry
  return {
    ...(licenses.length > 0 ? { license: licenses.join('\n') } : {}),
    modelfile: renderModelfile({ name: displayName(src.name), modelPath: paths(MEDIA.model)[0], adapters: paths(MEDIA.adapter), projectors: paths(MEDIA.projector), template, system, params, licenses, messages }),
    ...(parameters !== '' ? { parameters } : {}),
    template: template ?? '{{ .Prompt }}',
    ...(system !== undefined ? { system } : {}),
    details: modelDetails(entry, cfg),
    ...(messages.length > 0 ? { messages } : {}),
    model_info: modelInfo(gguf, verbose),
    ...(gguf !== undefined ? { tensors: gguf.tensors.map(t => ({ name: t.name, type: tensorTypeName(t.type), shape: t.shape })) } : {}),
    capabilities: capabilities(m, gguf, template ?? '', cfg),
    modified_at: src.modifiedAt.toISOString()
  }
}

export function addShowRoute (router: Router, c: ApiComponents): void {
  router.add('POST', '/api/show', 'read', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw badRequest('model is required')
    const verbose = optBool(body, 'verbose') ?? false
    const name = resolveName(c.store, raw)
    const entry = await c.store.get(name)
    const src = entry !== undefined ? localSource(c.store, entry) : await remoteSource(c, name, signal)
    if (src === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${displayName(name)}' not found`)
    sendJson(res, 200, await showResponse(src, (d) => c.store.layout.blob(d), verbose))
  })
}
