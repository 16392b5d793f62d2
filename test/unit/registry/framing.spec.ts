import assert from 'node:assert/strict'
import { isOllamadError } from '../../../src/errors.js'
import { createChunkedDecoder } from '../../../src/registry/chunked.js'
import { parseHead } from '../../../src/registry/head.js'

const malformed = (e: unknown): boolean => isOllamadError(e, 'REGISTRY_ERROR') && /malformed/.test(e.message)

describe('registry/head parseHead', () => {
  it('reads the status, the headers (lower-cased, repeats joined) and the framing', () => {
    const h = parseHead('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nX-A: 1\r\nx-a: 2', 'GET')
    assert.equal(h.status, 206)
    assert.equal(h.headers['x-a'], '1, 2')
    assert.deepEqual(h.framing, { kind: 'length', length: 10 })
    assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'GET').framing, { kind: 'chunked' })
    assert.deepEqual(parseHead('HTTP/1.0 200 OK', 'GET').framing, { kind: 'close' })
    assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 9', 'HEAD').framing, { kind: 'length', length: 0 })
    assert.deepEqual(parseHead('HTTP/1.1 204 No Content', 'GET').framing, { kind: 'length', length: 0 })
    assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5', 'GET').framing, { kind: 'length', length: 5 })
    // A second Location is dropped, as node:http does, rather than spliced into the first.
    assert.equal(parseHead('HTTP/1.1 307 x\r\nLocation: /a\r\nLocation: http://evil/b', 'GET').headers.location, '/a')
  })

  it('refuses what could frame a body two ways', () => {
    assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6', 'GET'), malformed)
    assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nContent-Length: -1', 'GET'), malformed)
    assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip', 'GET'), malformed)
    assert.throws(() => parseHead('HTTP/2 200', 'GET'), malformed)
    assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nBad Header: x', 'GET'), malformed)
    assert.throws(() => parseHead('HTTP/1.1 200 OK\r\nno colon', 'GET'), malformed)
  })
})

describe('registry/chunked createChunkedDecoder', () => {
  const body = Buffer.from('4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n')
  const want = 'Wikipedia in\r\n\r\nchunks.'

  it('decodes however the bytes are split, and ends after the trailers', () => {
    for (let cut = 0; cut <= body.byteLength; cut++) {
      const decode = createChunkedDecoder()
      const out: Buffer[] = []
      const first = decode(body.subarray(0, cut), b => out.push(b))
      const second = decode(body.subarray(cut), b => out.push(b))
      assert.equal(first, cut === body.byteLength, `cut ${cut}`)
      assert.equal(second, true, `cut ${cut}`)
      assert.equal(Buffer.concat(out).toString(), want, `cut ${cut}`)
    }
  })

  it('hands out copies, since the caller reuses its read buffer', () => {
    const decode = createChunkedDecoder()
    const input = Buffer.from('3\r\nabc\r\n0\r\n\r\n')
    const out: Buffer[] = []
    decode(input, b => out.push(b))
    input.fill(0)
    assert.equal(Buffer.concat(out).toString(), 'abc')
  })

  it('refuses a bad chunk size, a chunk without its line end, and endless lines', () => {
    assert.throws(() => createChunkedDecoder()(Buffer.from('zz\r\n'), () => {}), malformed)
    assert.throws(() => createChunkedDecoder()(Buffer.from('3\r\nabcX\r\n'), () => {}), malformed)
    assert.throws(() => createChunkedDecoder()(Buffer.alloc(5000, 0x31), () => {}), malformed)
    // Endless short trailer lines, which no body byte counts against a limit.
    assert.throws(() => createChunkedDecoder()(Buffer.from('0\r\n' + 'X-T: 1\r\n'.repeat(3000)), () => {}), malformed)
  })
})
