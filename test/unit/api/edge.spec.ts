import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { createAuthorizer } from '../../../src/api/access.js'
import { createOriginPolicy, corsHeaders, hostAllowed, hostOfHeader } from '../../../src/api/origin.js'
import { isOllamadError } from '../../../src/errors.js'

describe('api edge rules', () => {
  it('allows Ollama\'s default origins and the extra patterns, nothing else', () => {
    const p = createOriginPolicy(['https://*.corp.example', 'https://exact.example'])
    for (const o of ['http://localhost', 'https://localhost:8443', 'http://127.0.0.1:3000', 'http://0.0.0.0:1', 'app://x', 'file://', 'tauri://localhost', 'vscode-webview://abc', 'moz-extension://id', 'https://a.corp.example', 'https://exact.example', 'HTTP://LOCALHOST:3000']) {
      assert.ok(p.allowed(o), o)
    }
    for (const o of ['http://evil.example', 'http://localhost.evil.example', 'https://exact.example.evil', 'https://corp.example', 'null', 'http://127.0.0.2']) {
      assert.ok(!p.allowed(o), o)
    }
    assert.ok(createOriginPolicy(['*']).allowed('http://anything.example'))
  })

  it('answers a preflight with the methods and only the headers it knows', () => {
    const h = corsHeaders('http://localhost:3000', true, 'Authorization, X-Evil-Header')
    assert.equal(h['Access-Control-Allow-Origin'], 'http://localhost:3000')
    assert.match(h['Access-Control-Allow-Headers'] as string, /Authorization/)
    assert.doesNotMatch(h['Access-Control-Allow-Headers'] as string, /X-Evil-Header/)
    assert.deepEqual(corsHeaders('http://localhost', false), { 'Access-Control-Allow-Origin': 'http://localhost', Vary: 'Origin' })
  })

  it('judges Host headers as Ollama does on loopback', () => {
    assert.equal(hostOfHeader('[::1]:11435'), '::1')
    assert.equal(hostOfHeader('Example.COM:80'), 'example.com')
    assert.equal(hostOfHeader('::1'), '::1')
    for (const h of ['localhost:11435', '127.0.0.1', '[::1]:1', '192.168.1.20:11435', '0.0.0.0', `${hostname()}:11435`, 'box.local', 'svc.internal', 'app.localhost', undefined]) {
      assert.ok(hostAllowed(h), String(h))
    }
    for (const h of ['evil.example', 'evil.example:11435', '8.8.8.8', 'localhost.evil.example', 'internal']) {
      assert.ok(!hostAllowed(h), h)
    }
  })

  it('lets open classes through whatever Authorization says, and checks the token for the rest', () => {
    const authorize = createAuthorizer({ open: new Set(['read', 'infer']), token: 'secret-token-0123456789' })
    authorize('infer', 'Bearer sk-some-openai-key')
    authorize('read', undefined)
    authorize('cluster', 'Bearer secret-token-0123456789')
    authorize('write', 'bearer   secret-token-0123456789 ')
    for (const header of [undefined, '', 'secret-token-0123456789', 'Bearer secret-token-012345678', 'Basic c2VjcmV0']) {
      assert.throws(() => { authorize('cluster', header) }, (e: unknown) => isOllamadError(e, 'UNAUTHORIZED'))
    }
  })
})
