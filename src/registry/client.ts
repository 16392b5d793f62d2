import { createHash } from 'node:crypto'
import { OllamadError, isOllamadError } from '../errors.js'
import { systemClock, type Clock } from '../util/clock.js'
import { httpRequest, readBody, discard, isRedirect, type HttpResponse } from './http.js'
import { createTokenCache, parseChallenge, type BearerChallenge } from './auth.js'
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifest, parseDigest, type Digest, type Manifest, type ModelName } from '../store/index.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REDIRECTS, MAX_ERROR_BODY } from './constants.js'

export interface RegistryInit {
  /** host[:port] of registries spoken to over plain http. */
  insecureRegistries?: string[]
  /** @default 30000 */
  requestTimeoutMs?: number
}

export interface RegistryComponents { clock?: Clock }

export interface CallOptions { insecure?: boolean, signal?: AbortSignal }

export interface FetchedManifest { bytes: Buffer, manifest: Manifest, digest: Digest }

export interface RegistryClient {
  getManifest: (name: ModelName, opts?: CallOptions) => Promise<FetchedManifest>
  /** Opens a blob body, following redirects to other hosts without credentials. `end` is exclusive. */
  openBlob: (name: ModelName, digest: Digest, range: { start: number, end: number } | undefined, opts?: CallOptions) => Promise<HttpResponse>
  hasBlob: (name: ModelName, digest: Digest, opts?: CallOptions) => Promise<boolean>
  pushBlob: (name: ModelName, digest: Digest, size: number, body: () => AsyncIterable<Uint8Array>, opts?: CallOptions) => Promise<void>
  putManifest: (name: ModelName, bytes: Uint8Array, mediaType: string, opts?: CallOptions) => Promise<void>
}

interface Exchange {
  method?: string
  headers?: Record<string, string>
  body?: () => Uint8Array | AsyncIterable<Uint8Array>
  push?: boolean
  followRedirects?: boolean
  /** Plain http goes over `directRequest` (blob bodies). */
  direct?: boolean
}

/** The registry's own error text, from the docker/OCI `{"errors":[{"message"}]}` body when present. */
async function registryMessage (res: HttpResponse): Promise<string> {
  try {
    const body = (await readBody(res, MAX_ERROR_BODY)).toString('utf8')
    const parsed = JSON.parse(body) as { errors?: Array<{ message?: string, code?: string }> }
    const e = parsed.errors?.[0]
    return e?.message ?? e?.code ?? body.slice(0, 200)
  } catch { return '' }
}

export function createRegistryClient (components: RegistryComponents = {}, init: RegistryInit = {}): RegistryClient {
  const clock = components.clock ?? systemClock
  const tokens = createTokenCache(clock)
  const insecureHosts = new Set((init.insecureRegistries ?? []).map(h => h.toLowerCase()))
  const timeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  /** The last challenge each registry host sent, so later requests carry a token up front. */
  const challenges = new Map<string, BearerChallenge>()

  const baseUrl = (name: ModelName, opts: CallOptions | undefined): string => {
    const plain = opts?.insecure === true || insecureHosts.has(name.host.toLowerCase())
    return `${plain ? 'http' : 'https'}://${name.host}/v2/${name.namespace}/${name.model}`
  }

  const scopeFor = (name: ModelName, push: boolean): string =>
    `repository:${name.namespace}/${name.model}:${push ? 'pull,push' : 'pull'}`

  async function exchange (name: ModelName, url: URL, ex: Exchange, opts: CallOptions | undefined): Promise<HttpResponse> {
    const hostKey = `${url.host}|${ex.push === true ? 'push' : 'pull'}|${name.namespace}/${name.model}`
    let triedAuth = false
    for (;;) {
      const headers: Record<string, string> = { 'User-Agent': 'ollamad', ...ex.headers }
      const known = challenges.get(hostKey)
      if (known !== undefined) headers.Authorization = `Bearer ${await tokens.token(known, opts?.signal)}`
      const res = await httpRequest(url, { method: ex.method, headers, body: ex.body?.(), signal: opts?.signal, timeoutMs, direct: ex.direct })
      if (res.statusCode === 401 && !triedAuth) {
        const c = parseChallenge(res.headers['www-authenticate'])
        discard(res)
        if (c === undefined) throw new OllamadError('REGISTRY_AUTH', `${url.host} requires authentication that ollamad does not support`)
        const scoped = { ...c, scope: c.scope ?? scopeFor(name, ex.push === true) }
        if (known !== undefined) tokens.forget(known)
        challenges.set(hostKey, scoped)
        triedAuth = true
        continue
      }
      if (res.statusCode === 401) {
        discard(res)
        throw new OllamadError('REGISTRY_AUTH', `${url.host} refused our credentials`)
      }
      if (ex.followRedirects === true && isRedirect(res.statusCode)) return await followRedirects(res, url, ex, opts)
      return res
    }
  }

  async function followRedirects (first: HttpResponse, from: URL, ex: Exchange, opts: CallOptions | undefined): Promise<HttpResponse> {
    let res = first
    let url = from
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const loc = res.headers.location
      discard(res)
      if (loc === undefined) throw new OllamadError('REGISTRY_ERROR', `redirect from ${url.host} without a location`)
      url = new URL(loc, url)
      // Credentials are for the registry only, never for the storage host it redirects to.
      const headers: Record<string, string> = { 'User-Agent': 'ollamad', ...ex.headers }
      res = await httpRequest(url, { method: ex.method, headers, signal: opts?.signal, timeoutMs, direct: ex.direct })
      if (!isRedirect(res.statusCode)) return res
    }
    discard(res)
    throw new OllamadError('REGISTRY_ERROR', `too many redirects from ${from.host}`)
  }

  const fail = async (res: HttpResponse, what: string): Promise<never> => {
    const msg = await registryMessage(res)
    const status = res.statusCode ?? 0
    // A 4xx other than timeout or throttling will not change on retry.
    const code = status >= 400 && status < 500 && status !== 408 && status !== 429 ? 'REGISTRY_DENIED' : 'REGISTRY_ERROR'
    throw new OllamadError(code, `${what}: registry answered ${status}${msg !== '' ? `: ${msg}` : ''}`)
  }

  return {
    getManifest: async (name, opts) => {
      const url = new URL(`${baseUrl(name, opts)}/manifests/${name.tag}`)
      const res = await exchange(name, url, { headers: { Accept: MANIFEST_ACCEPT } }, opts).catch((e: unknown) => {
        if (isOllamadError(e, 'REGISTRY_UNREACHABLE')) throw new OllamadError(e.code, `pull model manifest: ${e.message}`, { cause: e })
        throw e
      })
      if (res.statusCode === 404) {
        discard(res)
        throw new OllamadError('MODEL_NOT_FOUND', 'pull model manifest: file does not exist')
      }
      if (res.statusCode !== 200) return await fail(res, 'pull model manifest')
      const bytes = await readBody(res, MAX_MANIFEST_BYTES)
      const manifest = parseManifest(bytes)
      const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
      const claimed = res.headers['docker-content-digest']
      if (typeof claimed === 'string' && claimed !== digest) {
        throw new OllamadError('DIGEST_MISMATCH', `manifest digest mismatch: registry says ${claimed.slice(0, 80)}, bytes hash to ${digest}`)
      }
      return { bytes, manifest, digest }
    },
    openBlob: async (name, digest, range, opts) => {
      const url = new URL(`${baseUrl(name, opts)}/blobs/${digest}`)
      const headers: Record<string, string> = {}
      if (range !== undefined) headers.Range = `bytes=${range.start}-${range.end - 1}`
      const res = await exchange(name, url, { headers, followRedirects: true, direct: true }, opts)
      if (res.statusCode === 404) { discard(res); throw new OllamadError('BLOB_NOT_FOUND', `blob ${digest} not found in registry`) }
      if (range !== undefined && res.statusCode === 206) return res
      if (res.statusCode === 200) return res
      return await fail(res, `fetch blob ${digest}`)
    },
    hasBlob: async (name, digest, opts) => {
      const url = new URL(`${baseUrl(name, opts)}/blobs/${digest}`)
      const res = await exchange(name, url, { method: 'HEAD', push: true, followRedirects: true }, opts)
      discard(res)
      if (res.statusCode === 200) return true
      if (res.statusCode === 404) return false
      return await fail(res, `check blob ${digest}`)
    },
    pushBlob: async (name, digest, size, body, opts) => {
      const start = new URL(`${baseUrl(name, opts)}/blobs/uploads/`)
      const res = await exchange(name, start, { method: 'POST', headers: { 'Content-Length': '0' }, push: true }, opts)
      if (res.statusCode !== 202) return await fail(res, 'start blob upload')
      discard(res)
      const loc = res.headers.location
      if (loc === undefined) throw new OllamadError('REGISTRY_ERROR', 'blob upload started without a location')
      const put = new URL(loc, start)
      put.searchParams.set('digest', digest)
      const done = await exchange(name, put, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
        body,
        push: true
      }, opts)
      if (done.statusCode !== 201) return await fail(done, `upload blob ${digest}`)
      discard(done)
    },
    putManifest: async (name, bytes, mediaType, opts) => {
      const url = new URL(`${baseUrl(name, opts)}/manifests/${name.tag}`)
      const res = await exchange(name, url, { method: 'PUT', headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.byteLength) }, body: () => bytes, push: true }, opts)
      if (res.statusCode !== 201 && res.statusCode !== 200) return await fail(res, 'push manifest')
      discard(res)
    }
  }
}
