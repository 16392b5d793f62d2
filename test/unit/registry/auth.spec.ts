import assert from 'node:assert/strict'
import { createRegistryClient, parseChallenge } from '../../../src/registry/index.js'
import { parseModelName, type ModelName } from '../../../src/store/index.js'
import { isOllamadError } from '../../../src/errors.js'
import { startHttpServer, sendJson, type TestServer } from '../../fixtures/http-server.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

const MANIFEST = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
  layers: []
}))

describe('registry bearer auth', () => {
  let server: TestServer
  let tokenBody: unknown
  let issued: Set<string>
  const tokenRequests = (): URL[] => server.requests.filter(r => r.url.startsWith('/token')).map(r => new URL(r.url, server.url))
  const name = (): ModelName => parseModelName(`${server.host}/library/m:latest`)

  beforeEach(async () => {
    tokenBody = undefined
    issued = new Set()
    server = await startHttpServer((req, res) => {
      if (req.url?.startsWith('/token') === true) {
        const token = `t${issued.size + 1}`
        issued.add(token)
        sendJson(res, 200, tokenBody ?? { token, expires_in: 300 })
        return
      }
      if (!issued.has(req.headers.authorization?.replace(/^Bearer /, '') ?? '')) {
        const challenge = `Bearer realm="${server.url}/token",service="x",scope="repository:library/m:pull"`
        res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Length': 0 }).end()
        return
      }
      res.writeHead(200, { 'Content-Length': MANIFEST.byteLength }).end(MANIFEST)
    })
  })

  afterEach(async () => { await server.close() })

  it('fetches a token once for the challenge and sends it on every later request', async () => {
    const client = createRegistryClient({}, { insecureRegistries: [server.host] })
    for (let i = 0; i < 3; i++) await client.getManifest(name())
    const tokens = tokenRequests()
    assert.equal(tokens.length, 1)
    assert.equal(tokens[0]?.searchParams.get('service'), 'x')
    assert.equal(tokens[0]?.searchParams.get('scope'), 'repository:library/m:pull')
    const manifestCalls = server.requests.filter(r => r.url.includes('/manifests/'))
    // One unauthenticated try, then every request carries the cached token.
    assert.equal(manifestCalls.length, 4)
    assert.equal(manifestCalls[0]?.headers.authorization, undefined)
    for (const r of manifestCalls.slice(1)) assert.equal(r.headers.authorization, 'Bearer t1')
  })

  it('shares one token fetch among concurrent requests', async () => {
    const client = createRegistryClient({}, { insecureRegistries: [server.host] })
    await Promise.all(Array.from({ length: 5 }, async () => await client.getManifest(name())))
    assert.equal(tokenRequests().length, 1)
  })

  it('fetches a new token once the cached one has expired', async () => {
    const clock = createFakeClock()
    const client = createRegistryClient({ clock }, { insecureRegistries: [server.host] })
    await client.getManifest(name())
    clock.advance(200_000)
    await client.getManifest(name())
    assert.equal(tokenRequests().length, 1)
    clock.advance(100_000)
    await client.getManifest(name())
    assert.equal(tokenRequests().length, 2)
    assert.equal(server.requests.at(-1)?.headers.authorization, 'Bearer t2')
  })

  it('fails with REGISTRY_AUTH when the token endpoint answers without a token', async () => {
    tokenBody = { nothing: 'here' }
    const client = createRegistryClient({}, { insecureRegistries: [server.host] })
    await assert.rejects(client.getManifest(name()), (e: unknown) => isOllamadError(e, 'REGISTRY_AUTH') && /no token/.test(e.message))
  })

  it('fails with REGISTRY_AUTH when the registry refuses a fresh token', async () => {
    tokenBody = { token: 'wrong' }
    const client = createRegistryClient({}, { insecureRegistries: [server.host] })
    await assert.rejects(client.getManifest(name()), (e: unknown) => isOllamadError(e, 'REGISTRY_AUTH') && /refused/.test(e.message))
  })

  it('accepts an OAuth-style access_token', async () => {
    const client = createRegistryClient({}, { insecureRegistries: [server.host] })
    tokenBody = { access_token: 't1' }
    await client.getManifest(name())
  })
})

describe('parseChallenge', () => {
  it('reads realm, service and scope, keeping commas inside quotes', () => {
    assert.deepEqual(
      parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'),
      { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' })
  })

  it('reads unquoted values, escaped quotes, spaces and any case of scheme and keys', () => {
    assert.deepEqual(
      parseChallenge('bearer  Realm=https://a/t , SERVICE="say \\"hi\\"", error="insufficient_scope"'),
      { realm: 'https://a/t', service: 'say "hi"', scope: undefined })
  })

  it('returns undefined without a realm', () => {
    assert.equal(parseChallenge('Bearer service="x",scope="y"'), undefined)
  })

  it('returns undefined for other schemes and for no header', () => {
    assert.equal(parseChallenge('Basic realm="registry"'), undefined)
    assert.equal(parseChallenge(''), undefined)
    assert.equal(parseChallenge(undefined), undefined)
  })
})
