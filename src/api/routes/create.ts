import { OllamadError } from '../../errors.js'
import { goJsonLine } from '../../util/go-json.js'
import { displayName, parseDigest, readModelConfig, serializeManifest, MEDIA, MEDIA_DOCKER_MANIFEST, MEDIA_DOCKER_CONFIG, MAX_SMALL_BLOB_BYTES, readGguf, fileTypeName, humanNumber, type Digest, type Layer, type ModelConfig, type ModelName, type Store } from '../../store/index.js'
import { stat } from 'node:fs/promises'
import { readJson, badRequest, modelField, optBool, optString, progressWriter } from '../http-util.js'
import { resolveName, type ApiComponents } from '../context.js'
import type { Router } from '../router.js'

interface CreateRequest {
  name: ModelName
  from?: ModelName
  files: Array<[string, Digest]>
  adapters: Array<[string, Digest]>
  template?: string
  system?: string
  licenses: string[]
  parameters?: Record<string, unknown>
  messages?: Array<{ role: string, content: string }>
}

const MAX_TEXT = 1024 * 1024

function fileMap (v: unknown, field: string): Array<[string, Digest]> {
  if (v === undefined || v === null) return []
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`field "${field}" must be an object of file name to digest`)
  return Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([path, d]) => {
    if (path.startsWith('/') || path.split(/[\\/]/).some(p => p === '..' || p === '') || path.length > 1024) throw badRequest('file path must be relative')
    try { return [path, parseDigest(d)] } catch { throw new OllamadError('INVALID_DIGEST', 'invalid digest format') }
  })
}

function text (body: Record<string, unknown>, key: string): string | undefined {
  const s = optString(body, key)
  if (s !== undefined && s.length > MAX_TEXT) throw badRequest(`field "${key}" is too long`)
  return s
}

/** Checks the whole request before anything streams, so bad input changes nothing. */
function parseCreate (store: Store, body: Record<string, unknown>): CreateRequest {
  const name = resolveName(store, modelField(body))
  if ((optString(body, 'quantize') ?? optString(body, 'quantization') ?? '') !== '') {
    throw badRequest('quantization is not supported by ollamad; create the model through Ollama itself')
  }
  const fromRaw = optString(body, 'from')
  const from = fromRaw !== undefined && fromRaw !== '' ? resolveName(store, fromRaw) : undefined
  const files = fileMap(body.files, 'files')
  const adapters = fileMap(body.adapters, 'adapters')
  if (from === undefined && files.length === 0) throw badRequest("neither 'from' or 'files' was specified")
  const lic = body.license
  const licenses = lic === undefined || lic === null ? [] : typeof lic === 'string' ? [lic] : Array.isArray(lic) && lic.every(l => typeof l === 'string') ? lic as string[] : undefined
  if (licenses === undefined) throw badRequest('field "license" must be a string or a list of strings')
  const params = body.parameters
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) throw badRequest('field "parameters" must be an object')
  const msgs = body.messages
  if (msgs !== undefined && msgs !== null && !(Array.isArray(msgs) && msgs.every(m => typeof m === 'object' && m !== null && typeof m.role === 'string' && typeof m.content === 'string'))) {
    throw badRequest('field "messages" must be a list of {role, content}')
  }
  return {
    name,
    from,
    files,
    adapters,
    template: text(body, 'template'),
    system: text(body, 'system'),
    licenses,
    parameters: params as Record<string, unknown> | undefined ?? undefined,
    messages: (msgs as Array<{ role: string, content: string }> | undefined)?.map(m => ({ role: m.role.toLowerCase(), content: m.content }))
  }
}

const sortKeys = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : 1))

export function addCreateRoute (router: Router, c: ApiComponents): void {
  /** A layer from a GGUF the client uploaded: the model, an adapter or a vision projector. */
  const ggufLayer = async (d: Digest, adapter: boolean, cfg: ModelConfig): Promise<Layer> => {
    const file = await c.store.blobFile(d)
    if (file === undefined) throw badRequest(`blob ${d} not found; upload it with POST /api/blobs/${d} first`)
    const info = await readGguf(file)
    const type = info.kv['general.type']
    const media = adapter || type === 'adapter' ? MEDIA.adapter : type === 'projector' || type === 'mmproj' || info.architecture === 'clip' ? MEDIA.projector : MEDIA.model
    if (media === MEDIA.model) {
      cfg.model_format ??= 'gguf'
      cfg.model_family ??= info.architecture
      cfg.model_families = [...(cfg.model_families ?? []), info.architecture]
      cfg.model_type ??= humanNumber(info.parameterCount)
      cfg.file_type ??= fileTypeName(info.fileType)
    }
    return { mediaType: media, digest: d, size: (await stat(file)).size }
  }

  /** Stores a layer we write ourselves, remembering which ones are new for the progress lines. */
  const textLayer = async (media: string, content: string, created: Set<string>): Promise<Layer> => {
    const put = await c.store.putSmallBlob(Buffer.from(content))
    if (!put.existed) created.add(put.digest)
    return { mediaType: media, digest: put.digest, size: put.size }
  }

  router.add('POST', '/api/create', 'write', async ({ req, res, signal }) => {
    const body = await readJson(req)
    const r = parseCreate(c.store, body)
    const w = progressWriter(res, optBool(body, 'stream') ?? true)
    try {
      let layers: Layer[] = []
      let cfg: ModelConfig = {}
      if (r.from !== undefined) {
        let base = await c.store.get(r.from)
        if (base === undefined) {
          await c.puller.pull(r.from, { signal, onProgress: (p) => { w.write(p) } })
          base = await c.store.get(r.from)
          if (base === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${displayName(r.from)}' not found`)
        }
        const fromName = displayName(r.from)
        layers = base.manifest.layers.map(l => ({ ...l, from: fromName }))
        const baseCfg = await readModelConfig(c.store, base)
        cfg = { ...baseCfg }
        delete cfg.rootfs
      }
      for (const [, d] of r.files) { w.write({ status: 'parsing GGUF' }); layers.push(await ggufLayer(d, false, cfg)) }
      for (const [, d] of r.adapters) layers.push(await ggufLayer(d, true, cfg))
      const created = new Set<string>()
      const replace = async (media: string, content: string): Promise<void> => {
        layers = layers.filter(l => l.mediaType !== media)
        layers.push(await textLayer(media, content, created))
      }
      if (r.template !== undefined) await replace(MEDIA.template, r.template)
      if (r.system !== undefined) await replace(MEDIA.system, r.system)
      for (const l of r.licenses) layers.push(await textLayer(MEDIA.license, l, created))
      if (r.parameters !== undefined && Object.keys(r.parameters).length > 0) {
        const old = layers.find(l => l.mediaType === MEDIA.params)
        let merged: Record<string, unknown> = {}
        if (old !== undefined) {
          try { merged = JSON.parse((await c.store.readBlob(old.digest, MAX_SMALL_BLOB_BYTES)).toString('utf8')) } catch {}
        }
        await replace(MEDIA.params, goJsonLine(sortKeys({ ...merged, ...r.parameters })))
      }
      if (r.messages !== undefined && r.messages.length > 0) await replace(MEDIA.messages, goJsonLine(r.messages))
      for (const l of layers) w.write({ status: `${created.has(l.digest) ? 'creating new' : 'using existing'} layer ${l.digest}` })
      const configBytes = goJsonLine({
        model_format: cfg.model_format ?? '',
        model_family: cfg.model_family ?? '',
        model_families: cfg.model_families ?? null,
        model_type: cfg.model_type ?? '',
        file_type: cfg.file_type ?? '',
        ...Object.fromEntries(Object.entries(cfg).filter(([k]) => !['model_format', 'model_family', 'model_families', 'model_type', 'file_type', 'architecture', 'os'].includes(k))),
        architecture: 'amd64',
        os: 'linux'
      })
      const config = await c.store.putSmallBlob(Buffer.from(configBytes))
      const manifest = serializeManifest({
        schemaVersion: 2,
        mediaType: MEDIA_DOCKER_MANIFEST,
        config: { mediaType: MEDIA_DOCKER_CONFIG, digest: config.digest, size: config.size },
        layers
      })
      w.write({ status: 'writing manifest' })
      await c.store.publish(r.name, manifest, [])
      c.log.info(`created ${displayName(r.name)}`)
      w.write({ status: 'success' })
      w.end()
    } catch (e) {
      w.fail(e)
    }
  })
}
