import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { readBody, readJson, sendFailure, statusOf, modelField, optString, optBool, progressWriter } from '../../../src/api/http-util.js'
import { OllamadError, isOllamadError, type ErrorCode } from '../../../src/errors.js'
import { startHttpServer, type TestServer } from '../../fixtures/http-server.js'

/** A request body as node:http hands it to a handler: a stream with headers. */
const request = (chunks: Array<string | Buffer>, headers: Record<string, string> = {}): IncomingMessage =>
  Object.assign(Readable.from(chunks.map(c => Buffer.from(c))), { headers, setTimeout: () => {} }) as unknown as IncomingMessage

const failsWith = (code: ErrorCode, message?: RegExp | string) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  if (typeof message === 'string') assert.equal(e.message, message)
  else if (message !== undefined) assert.match(e.message, message)
  return true
}

describe('api/http-util', () => {
  describe('readJson', () => {
    it('returns the JSON object of the body, even split over chunks', async () => {
      assert.deepEqual(await readJson(request(['{"model":', '"llama3","stream":false}'])), { model: 'llama3', stream: false })
    })

    it('refuses an empty body with Ollama\'s "missing request body"', async () => {
      await assert.rejects(readJson(request([])), failsWith('INVALID_REQUEST', 'missing request body'))
      await assert.rejects(readJson(request([' \n '])), failsWith('INVALID_REQUEST', 'missing request body'))
    })

    it('refuses malformed JSON with INVALID_REQUEST', async () => {
      await assert.rejects(readJson(request(['{"model":'])), failsWith('INVALID_REQUEST', /invalid JSON/))
      await assert.rejects(readJson(request(['{model:1}'])), failsWith('INVALID_REQUEST'))
    })

    it('refuses JSON that is not an object: arrays, strings, numbers, null', async () => {
      for (const body of ['[{"model":"x"}]', '"x"', '1', 'null']) {
        await assert.rejects(readJson(request([body])), failsWith('INVALID_REQUEST', /JSON object/), body)
      }
    })

    it('refuses a body over the limit while reading it', async () => {
      const parts = ['{"a":"', 'x'.repeat(10), 'y'.repeat(10), '"}']
      await assert.rejects(readJson(request(parts), 16), failsWith('BODY_TOO_LARGE'))
    })

    it('refuses a declared Content-Length over the limit before reading', async () => {
      let read = false
      const body = Readable.from((function * () { read = true; yield Buffer.from('{}') })())
      const req = Object.assign(body, { headers: { 'content-length': '17' } }) as unknown as IncomingMessage
      await assert.rejects(readJson(req, 16), failsWith('BODY_TOO_LARGE'))
      assert.equal(read, false)
    })

    it('accepts a body of exactly the limit', async () => {
      const body = '{"a":"' + 'x'.repeat(8) + '"}'
      assert.equal(body.length, 16)
      assert.deepEqual(await readJson(request([body], { 'content-length': '16' }), 16), { a: 'xxxxxxxx' })
    })
  })

  it('drops a request whose body stops arriving', async () => {
    let failure: unknown
    const server = await startHttpServer(async (req) => {
      try { await readBody(req, 1024, 200) } catch (e) { failure = e }
    })
    try {
      const net = await import('node:net')
      const sock = net.connect(Number(new URL(server.url).port), '127.0.0.1')
      sock.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":')
      const closed = await new Promise<boolean>(resolve => { sock.once('close', () => { resolve(true) }); setTimeout(() => { resolve(false) }, 3000) })
      assert.ok(closed, 'the server closed the idle connection')
      assert.ok(isOllamadError(failure), String(failure))
    } finally { await server.close() }
  })

  describe('over a real server', () => {
    let server: TestServer
    before(async () => {
      server = await startHttpServer(async (req, res) => {
        try {
          const body = await readJson(req, 64)
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ got: body }))
        } catch (e) {
          req.resume()
          sendFailure(res, e)
        }
      })
    })
    after(async () => { await server.close() })

    const post = async (body?: string): Promise<{ status: number, json: unknown, type: string | null }> => {
      const r = await fetch(`${server.url}/api/pull`, { method: 'POST', body })
      return { status: r.status, json: await r.json(), type: r.headers.get('content-type') }
    }

    it('answers an empty body with 400 {"error":"missing request body"}', async () => {
      const r = await post()
      assert.equal(r.status, 400)
      assert.deepEqual(r.json, { error: 'missing request body' })
      assert.match(r.type ?? '', /^application\/json/)
    })

    it('answers malformed JSON and an array body with 400 and an error message', async () => {
      for (const body of ['{"name":', '["x"]']) {
        const r = await post(body)
        assert.equal(r.status, 400, body)
        assert.equal(typeof (r.json as { error?: unknown }).error, 'string')
      }
    })

    it('answers a body over the limit with 400 BODY_TOO_LARGE', async () => {
      const r = await post(JSON.stringify({ name: 'x'.repeat(100) }))
      assert.equal(r.status, 400)
      assert.match((r.json as { error: string }).error, /too large/)
    })

    it('passes a good body through', async () => {
      assert.deepEqual((await post('{"name":"llama3"}')).json, { got: { name: 'llama3' } })
    })
  })

  describe('field readers and status mapping', () => {
    it('modelField prefers a non-empty model over name, as Ollama does', () => {
      assert.equal(modelField({ model: 'a', name: 'b' }), 'a')
      assert.equal(modelField({ model: '', name: 'b' }), 'b')
      assert.equal(modelField({ name: 'b' }), 'b')
      assert.equal(modelField({}), '')
    })

    it('optString and optBool refuse wrong types with a 400 naming the field', () => {
      assert.equal(optString({ a: null }, 'a'), undefined)
      assert.equal(optBool({ s: false }, 's'), false)
      assert.throws(() => optString({ a: 1 }, 'a'), failsWith('INVALID_REQUEST', /"a"/))
      assert.throws(() => optBool({ stream: 'false' }, 'stream'), failsWith('INVALID_REQUEST', /"stream"/))
    })

    it('statusOf maps typed errors to HTTP codes and anything else to 500', () => {
      assert.equal(statusOf(new OllamadError('INVALID_NAME', 'x')), 400)
      assert.equal(statusOf(new OllamadError('BODY_TOO_LARGE', 'x')), 400)
      assert.equal(statusOf(new OllamadError('MODEL_NOT_FOUND', 'x')), 404)
      assert.equal(statusOf(new OllamadError('INTERNAL', 'x')), 500)
      assert.equal(statusOf(new Error('x')), 500)
    })
  })

  describe('progressWriter', () => {
    let server: TestServer
    let script: (w: ReturnType<typeof progressWriter>) => void = () => {}
    let stream = true
    before(async () => {
      server = await startHttpServer((_req, res) => { script(progressWriter(res, stream)) })
    })
    after(async () => { await server.close() })

    it('streams NDJSON lines and puts an error after the first line in-band with status 200', async () => {
      stream = true
      script = (w) => { w.write({ status: 'pulling manifest' }); w.fail(new OllamadError('MODEL_NOT_FOUND', 'gone')) }
      const r = await fetch(server.url)
      assert.equal(r.status, 200)
      assert.equal(r.headers.get('content-type'), 'application/x-ndjson')
      assert.equal(await r.text(), '{"status":"pulling manifest"}\n{"error":"gone"}\n')
    })

    it('answers an error before any line as a plain error response with its status', async () => {
      stream = true
      script = (w) => { w.fail(new OllamadError('MODEL_NOT_FOUND', 'gone')) }
      const r = await fetch(server.url)
      assert.equal(r.status, 404)
      assert.deepEqual(await r.json(), { error: 'gone' })
    })

    it('with stream:false answers only the last event', async () => {
      stream = false
      script = (w) => { w.write({ status: 'pulling manifest' }); w.write({ status: 'success' }); w.end() }
      const r = await fetch(server.url)
      assert.equal(r.status, 200)
      assert.deepEqual(await r.json(), { status: 'success' })
    })
  })
})
