import assert from 'node:assert/strict'
import { createRegistryClient, MAX_REDIRECTS, type HttpResponse } from '../../../src/registry/index.js'
import { MAX_MANIFEST_BYTES, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_MANIFEST, parseModelName, type ModelName } from '../../../src/store/index.js'
import { isOllamadError, type ErrorCode } from '../../../src/errors.js'
import { DirectResponse } from '../../../src/registry/direct-http.js'
import { startHttpServer, sendBlob, sendJson, type Handler, type TestServer } from '../../fixtures/http-server.js'
import { makeBlob, sha256 } from '../../fixtures/blob.js'

const blob = makeBlob(1000, 'client')
const MANIFEST_PATH = '/v2/library/m/manifests/latest'
const BLOB_PATH = `/v2/library/m/blobs/${blob.digest}`

const manifestBytes = (mediaType = MEDIA_DOCKER_MANIFEST): Buffer => Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: blob.digest, size: blob.size },
  layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: blob.digest, size: blob.size }]
}))

const rejectsWith = async (p: Promise<unknown>, code: ErrorCode, message?: RegExp | string): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (typeof message === 'string') assert.equal(e.message, message)
    else if (message !== undefined) assert.match(e.message, message)
    return true
  })
}

const readAll = async (res: HttpResponse): Promise<Buffer> => {
  const parts: Buffer[] = []
  for await (const b of res) parts.push(b as Buffer)
  return Buffer.concat(parts)
}

describe('registry client', () => {
  const servers: TestServer[] = []
  const serve = async (h: Handler): Promise<TestServer> => { const s = await startHttpServer(h); servers.push(s); return s }
  const nameOn = (s: TestServer): ModelName => parseModelName(`${s.host}/library/m:latest`)
  const clientFor = (s: TestServer): ReturnType<typeof createRegistryClient> => createRegistryClient({}, { insecureRegistries: [s.host] })

  afterEach(async () => {
    await Promise.all(servers.splice(0).map(async s => { await s.close() }))
  })

  describe('manifests', () => {
    it('answers a missing manifest with MODEL_NOT_FOUND in Ollama\'s words', async () => {
      const s = await serve((_req, res) => { sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'MODEL_NOT_FOUND', 'pull model manifest: file does not exist')
    })

    it('asks for both the docker v2 and the OCI manifest media types', async () => {
      const bytes = manifestBytes()
      const s = await serve((_req, res) => { res.writeHead(200, { 'Content-Type': MEDIA_DOCKER_MANIFEST }).end(bytes) })
      await clientFor(s).getManifest(nameOn(s))
      const accept = String(s.requests[0]?.headers.accept)
      assert.ok(accept.includes(MEDIA_DOCKER_MANIFEST), accept)
      assert.ok(accept.includes(MEDIA_OCI_MANIFEST), accept)
      assert.equal(s.requests[0]?.url, MANIFEST_PATH)
    })

    for (const mediaType of [MEDIA_DOCKER_MANIFEST, MEDIA_OCI_MANIFEST]) {
      it(`accepts a ${mediaType} manifest and returns its bytes and sha256`, async () => {
        const bytes = manifestBytes(mediaType)
        const s = await serve((_req, res) => { res.writeHead(200, { 'Content-Type': mediaType, 'Docker-Content-Digest': sha256(bytes) }).end(bytes) })
        const got = await clientFor(s).getManifest(nameOn(s))
        assert.deepEqual(got.bytes, bytes)
        assert.equal(got.digest, sha256(bytes))
        assert.equal(got.manifest.mediaType, mediaType)
        assert.equal(got.manifest.layers[0]?.digest, blob.digest)
      })
    }

    it('refuses a manifest whose Content-Length exceeds the limit with SIZE_LIMIT', async () => {
      const s = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Length': MAX_MANIFEST_BYTES + 1 })
        res.end(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20))
      })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'SIZE_LIMIT')
    })

    it('refuses an oversized chunked manifest without a length with SIZE_LIMIT', async () => {
      const s = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': MEDIA_DOCKER_MANIFEST, 'Transfer-Encoding': 'chunked' })
        const piece = Buffer.alloc(256 * 1024, 0x20)
        for (let sent = 0; sent <= MAX_MANIFEST_BYTES; sent += piece.byteLength) res.write(piece)
        res.end()
      })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'SIZE_LIMIT', /exceeds the \d+ byte limit/)
    })

    it('refuses a manifest that is not JSON with MANIFEST_INVALID', async () => {
      const s = await serve((_req, res) => { res.writeHead(200).end('{"schemaVersion": 2,') })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'MANIFEST_INVALID')
    })

    it('refuses a manifest whose Docker-Content-Digest disagrees with its bytes with DIGEST_MISMATCH', async () => {
      const bytes = manifestBytes()
      const s = await serve((_req, res) => { res.writeHead(200, { 'Docker-Content-Digest': blob.digest }).end(bytes) })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'DIGEST_MISMATCH')
    })

    it('reports a registry error status with the registry\'s own message', async () => {
      const s = await serve((_req, res) => { sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] }) })
      await rejectsWith(clientFor(s).getManifest(nameOn(s)), 'REGISTRY_ERROR', /500: disk on fire/)
    })
  })

  describe('http and https', () => {
    const manifestServer = async (): Promise<TestServer> => {
      const bytes = manifestBytes()
      return await serve((_req, res) => { res.writeHead(200).end(bytes) })
    }

    it('speaks plain http to a host listed in insecureRegistries', async () => {
      const s = await manifestServer()
      await createRegistryClient({}, { insecureRegistries: [s.host.toUpperCase()] }).getManifest(nameOn(s))
      assert.equal(s.requests.length, 1)
    })

    it('speaks plain http for a call made with insecure: true', async () => {
      const s = await manifestServer()
      await createRegistryClient().getManifest(nameOn(s), { insecure: true })
      assert.equal(s.requests.length, 1)
    })

    it('reads plain-http blob bodies directly, one connection per request', async () => {
      const s = await serve((req, res) => { sendBlob(req, res, blob.data) })
      const res = await clientFor(s).openBlob(nameOn(s), blob.digest, { start: 0, end: 500 })
      assert.ok(res instanceof DirectResponse)
      assert.deepEqual(await readAll(res), blob.data.subarray(0, 500))
      assert.equal(s.requests[0]?.headers.connection, 'close')
      assert.equal(s.requests[0]?.headers['user-agent'], 'ollamad')
    })

    it('speaks https to any other host, so an http-only registry is unreachable', async () => {
      const s = await manifestServer()
      await rejectsWith(createRegistryClient().getManifest(nameOn(s)), 'REGISTRY_UNREACHABLE')
      assert.equal(s.requests.length, 0)
    })
  })

  describe('blob redirects', () => {
    /** A registry that demands a bearer token and redirects blob reads to a storage host. */
    const setup = async (status: number): Promise<{ registry: TestServer, storage: TestServer }> => {
      const storage = await serve((req, res) => { sendBlob(req, res, blob.data) })
      const registry = await serve((req, res) => {
        if (req.url?.startsWith('/token') === true) { sendJson(res, 200, { token: 'secret' }); return }
        if (req.headers.authorization !== 'Bearer secret') {
          res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${registry.host}/token",service="x"` }).end()
          return
        }
        res.writeHead(status, { Location: `${storage.url}/r2/blob?sig=abc` }).end()
      })
      return { registry, storage }
    }

    for (const status of [307, 302, 303]) {
      it(`follows a ${status} to another host without sending the registry's Authorization`, async () => {
        const { registry, storage } = await setup(status)
        const res = await clientFor(registry).openBlob(nameOn(registry), blob.digest, { start: 10, end: 110 })
        assert.equal(res.statusCode, 206)
        assert.deepEqual(await readAll(res), blob.data.subarray(10, 110))
        assert.equal(registry.requests.at(-1)?.headers.authorization, 'Bearer secret')
        assert.equal(storage.requests.length, 1)
        assert.equal(storage.requests[0]?.url, '/r2/blob?sig=abc')
        assert.equal(storage.requests[0]?.headers.authorization, undefined)
        assert.equal(storage.requests[0]?.headers.range, 'bytes=10-109')
      })
    }

    it('gives up on endless redirects with REGISTRY_ERROR', async () => {
      const loop = await serve((_req, res) => { res.writeHead(302, { Location: '/again' }).end() })
      await rejectsWith(clientFor(loop).openBlob(nameOn(loop), blob.digest, undefined), 'REGISTRY_ERROR', /too many redirects/)
      assert.equal(loop.requests.length, MAX_REDIRECTS + 1)
    })

    it('refuses a redirect without a Location with REGISTRY_ERROR', async () => {
      const s = await serve((_req, res) => { res.writeHead(307).end() })
      await rejectsWith(clientFor(s).openBlob(nameOn(s), blob.digest, undefined), 'REGISTRY_ERROR', /without a location/)
    })

    it('answers a missing blob with BLOB_NOT_FOUND', async () => {
      const s = await serve((_req, res) => { sendJson(res, 404, { errors: [{ code: 'BLOB_UNKNOWN' }] }) })
      await rejectsWith(clientFor(s).openBlob(nameOn(s), blob.digest, undefined), 'BLOB_NOT_FOUND')
      assert.equal(s.requests[0]?.url, BLOB_PATH)
    })
  })
})
