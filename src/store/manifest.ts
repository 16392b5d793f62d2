import { OllamadError } from '../errors.js'
import { isDigest, parseDigest, type Digest } from './digest.js'
import { goJsonLine } from '../util/go-json.js'

export const MEDIA_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const MEDIA_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json'
export const MANIFEST_ACCEPT = [MEDIA_DOCKER_MANIFEST, MEDIA_OCI_MANIFEST].join(', ')

/** Manifests are small JSON documents; anything larger is refused before parsing. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const MAX_LAYERS = 1024
/** No single layer may claim more than this (a GGUF larger than 2 TiB is not a real model). */
export const MAX_LAYER_BYTES = 2 ** 41

export interface Layer {
  mediaType: string
  digest: Digest
  size: number
  from?: string
}

export interface Manifest {
  schemaVersion: number
  mediaType: string
  config: Layer
  layers: Layer[]
}

function parseLayer (v: unknown, where: string): Layer {
  if (typeof v !== 'object' || v === null) throw invalid(`${where} is not an object`)
  const o = v as Record<string, unknown>
  if (typeof o.mediaType !== 'string' || o.mediaType.length > 255) throw invalid(`${where} has no valid mediaType`)
  if (!isDigest(o.digest)) throw invalid(`${where} has an invalid digest`)
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0 || o.size > MAX_LAYER_BYTES) {
    throw invalid(`${where} has an invalid size`)
  }
  const layer: Layer = { mediaType: o.mediaType, digest: parseDigest(o.digest), size: o.size }
  // Go omits an empty `from`; keeping it would change the bytes we write.
  if (typeof o.from === 'string' && o.from !== '') layer.from = o.from
  return layer
}

const invalid = (msg: string): OllamadError => new OllamadError('MANIFEST_INVALID', `invalid manifest: ${msg}`)

/** Parses and validates manifest bytes from a registry, a peer or the disk. */
export function parseManifest (bytes: Uint8Array): Manifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw invalid('too large')
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch {
    throw invalid('not JSON')
  }
  if (typeof v !== 'object' || v === null) throw invalid('not an object')
  const o = v as Record<string, unknown>
  if (o.schemaVersion !== 2) throw invalid('schemaVersion is not 2')
  const mediaType = typeof o.mediaType === 'string' ? o.mediaType : MEDIA_DOCKER_MANIFEST
  if (mediaType !== MEDIA_DOCKER_MANIFEST && mediaType !== MEDIA_OCI_MANIFEST) throw invalid(`unsupported media type ${mediaType.slice(0, 100)}`)
  if (!Array.isArray(o.layers) || o.layers.length > MAX_LAYERS) throw invalid('layers missing or too many')
  return {
    schemaVersion: 2,
    mediaType,
    config: parseLayer(o.config, 'config'),
    layers: o.layers.map((l, i) => parseLayer(l, `layer ${i}`))
  }
}

/** Serialises a manifest the way Ollama's create writes it (Go JSON, fixed key order, newline). */
export function serializeManifest (m: Manifest): Uint8Array {
  const layer = (l: Layer): Record<string, unknown> => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, ...(l.from !== undefined && l.from !== '' ? { from: l.from } : {}) })
  return Buffer.from(goJsonLine({
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    config: layer(m.config),
    layers: m.layers.map(layer)
  }))
}

/** Every blob a manifest references, config first, without repeats. */
export function manifestBlobs (m: Manifest): Layer[] {
  const seen = new Set<string>()
  return [m.config, ...m.layers].filter(l => !seen.has(l.digest) && seen.add(l.digest) !== undefined)
}

export const manifestSize = (m: Manifest): number => manifestBlobs(m).reduce((a, l) => a + l.size, 0)
