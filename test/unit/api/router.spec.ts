import assert from 'node:assert/strict'
import { createRouter, type Handler } from '../../../src/api/router.js'

const handler = (): Handler => async () => {}

describe('api/router', () => {
  const tags = handler()
  const nodeModels = handler()
  const blobs = handler()
  const pull = handler()
  const show = handler()
  const router = createRouter()
  router.add(['GET', 'HEAD'], '/api/tags', 'read', tags)
  router.add('POST', '/api/pull', 'pull', pull)
  router.add(['POST', 'HEAD'], '/api/blobs/:digest', 'write', blobs)
  router.add('POST', '/api/show', 'read', show)
  router.add('GET', '/api/cluster/nodes/:id/models/:model', 'read', nodeModels)

  it('matches a static path under each of its methods', () => {
    const get = router.match('GET', '/api/tags')
    const head = router.match('HEAD', '/api/tags')
    assert.ok(typeof get === 'object' && get.handler === tags)
    assert.ok(typeof head === 'object' && head.handler === tags)
    assert.deepEqual(get.params, {})
  })

  it('picks the handler of the path that matched, with its access class', () => {
    const m = router.match('POST', '/api/show')
    assert.ok(typeof m === 'object' && m.handler === show)
    assert.equal(m.access, 'read')
    const p = router.match('POST', '/api/pull')
    assert.ok(typeof p === 'object' && p.access === 'pull')
  })

  it('decodes :param segments', () => {
    const m = router.match('POST', '/api/blobs/sha256%3Aabc')
    assert.ok(typeof m === 'object')
    assert.equal(m.handler, blobs)
    assert.deepEqual(m.params, { digest: 'sha256:abc' })
  })

  it('fills several params by name', () => {
    const m = router.match('GET', '/api/cluster/nodes/n1/models/llama3%3Alatest')
    assert.ok(typeof m === 'object' && m.handler === nodeModels)
    assert.deepEqual(m.params, { id: 'n1', model: 'llama3:latest' })
  })

  it('answers method-not-allowed when the path exists under another method', () => {
    assert.equal(router.match('GET', '/api/pull'), 'method-not-allowed')
    assert.equal(router.match('DELETE', '/api/tags'), 'method-not-allowed')
    assert.equal(router.match('GET', '/api/blobs/sha256:abc'), 'method-not-allowed')
  })

  it('answers undefined (404) for a path no route has', () => {
    assert.equal(router.match('GET', '/api/nope'), undefined)
    assert.equal(router.match('POST', '/api/pull/extra'), undefined)
    assert.equal(router.match('POST', '/api'), undefined)
    assert.equal(router.match('POST', '/api/blobs'), undefined)
  })

  it('compares methods and static segments exactly', () => {
    assert.equal(router.match('get', '/api/tags'), 'method-not-allowed')
    assert.equal(router.match('GET', '/API/tags'), undefined)
  })

  it('does not match a param segment with bad percent-encoding, rather than throwing', () => {
    assert.equal(router.match('POST', '/api/blobs/%E0%A4%A'), undefined)
    assert.equal(router.match('HEAD', '/api/blobs/%'), undefined)
    assert.equal(router.match('GET', '/api/blobs/%zz'), undefined, 'not a 405 either: the path never matched')
  })

  it('routes registered later are reachable and the first matching route wins', () => {
    const r = createRouter()
    const first = handler()
    const second = handler()
    r.add('GET', '/a/:x', 'read', first)
    r.add('GET', '/a/b', 'cluster', second)
    const m = r.match('GET', '/a/b')
    assert.ok(typeof m === 'object' && m.handler === first)
    assert.deepEqual(m.params, { x: 'b' })
  })
})
