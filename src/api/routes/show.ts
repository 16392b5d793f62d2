import { OllamadError } from '../../errors.js'
import { displayName, modelDetails, readModelConfig, readTextLayers, MEDIA, MAX_SMALL_BLOB_BYTES, type ModelEntry, type Store } from '../../store/index.js'
import { readGguf, type GgufInfo } from '../../store/gguf.js'
import { readJson, sendJson, badRequest, modelField, optBool } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import { formatParameters, renderModelfile } from '../modelfile.js'
import { tensorTypeName } from '../tensor-types.js'
import type { Router } from '../router.js'

const ggufCache = new Map<string, GgufInfo>()

async function modelGguf (store: Store, entry: ModelEntry): Promise<GgufInfo | undefined> {
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

/** Ollama's capability rules: from the GGUF keys, the template and projector layers. */
function capabilities (entry: ModelEntry, gguf: GgufInfo | undefined, template: string): string[] {
  const caps: string[] = []
  const arch = gguf?.architecture ?? ''
  if (gguf !== undefined) caps.push(`${arch}.pooling_type` in gguf.kv ? 'embedding' : 'completion')
  if (template.includes('.Tools')) caps.push('tools')
  if (template.includes('.Suffix')) caps.push('insert')
  if ((gguf !== undefined && `${arch}.vision.block_count` in gguf.kv) || entry.manifest.layers.some(l => l.mediaType === MEDIA.projector)) caps.push('vision')
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

export function addShowRoute (router: Router, c: ApiComponents): void {
  router.add('POST', '/api/show', async ({ req, res }) => {
    const body = await readJson(req)
    const raw = modelField(body)
    if (raw === '') throw badRequest('model is required')
    const verbose = optBool(body, 'verbose') ?? false
    const name = resolveName(c.store, raw)
    const entry = await c.store.get(name)
    if (entry === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${displayName(name)}' not found`)
    const cfg = await readModelConfig(c.store, entry)
    const text = async (media: string): Promise<string[]> => await readTextLayers(c.store, entry, media).catch(() => [])
    const template = (await text(MEDIA.template))[0] ?? (await text(MEDIA.prompt))[0]
    const system = (await text(MEDIA.system))[0]
    const licenses = await text(MEDIA.license)
    const paramsLayer = entry.manifest.layers.find(l => l.mediaType === MEDIA.params)
    let params: Record<string, unknown> = {}
    if (paramsLayer !== undefined) {
      try { params = JSON.parse((await c.store.readBlob(paramsLayer.digest, MAX_SMALL_BLOB_BYTES)).toString('utf8')) } catch {}
    }
    let messages: Array<{ role: string, content: string }> = []
    const msgLayer = entry.manifest.layers.find(l => l.mediaType === MEDIA.messages)
    if (msgLayer !== undefined) {
      try { messages = JSON.parse((await c.store.readBlob(msgLayer.digest, MAX_SMALL_BLOB_BYTES)).toString('utf8')) } catch {}
    }
    const gguf = await modelGguf(c.store, entry)
    const layerPaths = (media: string): string[] => entry.manifest.layers.filter(l => l.mediaType === media).map(l => c.store.layout.blob(l.digest))
    const modelfile = renderModelfile({
      name: displayName(name),
      modelPath: layerPaths(MEDIA.model)[0],
      adapters: layerPaths(MEDIA.adapter),
      projectors: layerPaths(MEDIA.projector),
      template,
      system,
      params,
      licenses,
      messages
    })
    const parameters = formatParameters(params)
    sendJson(res, 200, {
      ...(licenses.length > 0 ? { license: licenses.join('\n') } : {}),
      modelfile,
      ...(parameters !== '' ? { parameters } : {}),
      template: template ?? '{{ .Prompt }}',
      ...(system !== undefined ? { system } : {}),
      details: modelDetails(entry, cfg),
      ...(messages.length > 0 ? { messages } : {}),
      model_info: modelInfo(gguf, verbose),
      ...(gguf !== undefined ? { tensors: gguf.tensors.map(t => ({ name: t.name, type: tensorTypeName(t.type), shape: t.shape })) } : {}),
      capabilities: capabilities(entry, gguf, template ?? ''),
      modified_at: entry.modifiedAt.toISOString()
    })
  })
}
