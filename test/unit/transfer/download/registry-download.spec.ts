import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { chunkCount, chunkSize } from '../../../../src/store/index.js'
import { isOllamadError, type ErrorCode } from '../../../../src/errors.js'
import { makeBlob } from '../../../fixtures/blob.js'
import { parseRange, sendBlob } from '../../../fixtures/http-server.js'
import { waitFor } from '../../../fixtures/wait-for.js'
import { createDownloadEnv, type DownloadEnv } from '../../../fixtures/download-env.js'

const MiB = 1024 * 1024
const CHUNK = chunkSize(14 * MiB)
/** Three and a half chunks, so the last one is short. */
const blob = makeBlob(Math.floor(3.5 * CHUNK), 'registry-download')
const CHUNKS = chunkCount(blob.size)

const failsWith = (code: ErrorCode) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  return true
}

/** Start offsets of the Range requests a server saw, in order. */
const rangeStarts = (reqs: Array<{ headers: { range?: string } }>): number[] =>
  reqs.map(r => parseRange(r.headers.range, blob.size)?.start ?? -1)

/** Range starts that fall inside chunk i (a retry may resume in the middle of it). */
const startsIn = (starts: number[], i: number): number[] => starts.filter(s => s >= i * CHUNK && s < (i + 1) * CHUNK)

/** Counts the requests for each chunk, to fail the first try of chosen chunks. */
function attempts (): (req: IncomingMessage) => { chunk: number, attempt: number } {
  const seen = new Map<number, number>()
  return (req) => {
    const start = parseRange(req.headers.range, blob.size)?.start ?? -1
    const chunk = start < 0 ? -1 : Math.floor(start / CHUNK)
    const attempt = (seen.get(chunk) ?? 0) + 1
    seen.set(chunk, attempt)
    return { chunk, attempt }
  }
}

describe('registry blob download', function () {
  this.timeout(10_000)
  let env: DownloadEnv

  beforeEach(async () => { env = await createDownloadEnv() })
  afterEach(async () => { await env.cleanup() })

  it('assembles a multi-chunk blob intact from parallel Range requests', async () => {
    assert.equal(CHUNKS, 4)
    const server = await env.serve(async (req, res) => {
      // Hold each answer until a second request is in flight, so parallelism is observed, not timed.
      await waitFor(() => server.active() >= 2, 2000, 'a second parallel request').catch(() => {})
      sendBlob(req, res, blob.data)
    })
    const progress: Array<[number, number]> = []
    const partial = await env.download(server, blob, { onProgress: (c, t) => { progress.push([c, t]) } })
    assert.ok(partial.bitmap.full())
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.ok(server.maxActive() > 1, `at most ${server.maxActive()} request(s) at once`)
    assert.deepEqual(rangeStarts(server.requests).sort((a, b) => a - b), [0, CHUNK, 2 * CHUNK, 3 * CHUNK])
    assert.equal(server.requests.at(-1)?.url, `/v2/library/m/blobs/${blob.digest}`)
    assert.ok(progress.every(([c, t]) => t === blob.size && c <= t))
    assert.deepEqual(progress.at(-1), [blob.size, blob.size])
  })

  it('asks for a run of missing chunks in one request while many remain, one chunk at a time toward the end', async () => {
    const server = await env.serve((req, res) => { sendBlob(req, res, blob.data) })
    const partial = await env.download(server, blob, { concurrency: 1 })
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    const ranges = server.requests.map(r => r.headers.range)
    assert.deepEqual(ranges, [`bytes=0-${2 * CHUNK - 1}`, `bytes=${2 * CHUNK}-${3 * CHUNK - 1}`, `bytes=${3 * CHUNK}-${blob.size - 1}`])
  })

  it('reads the whole body once when the server ignores Range', async () => {
    const server = await env.serve((req, res) => { sendBlob(req, res, blob.data, { ignoreRange: true }) })
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.equal(server.requests.filter(r => r.headers.range === undefined).length, 1)
  })

  it('retries range requests that fail with 500', async () => {
    const next = attempts()
    const server = await env.serve((req, res) => {
      if (next(req).attempt === 1) { res.writeHead(500).end('try later'); return }
      sendBlob(req, res, blob.data)
    })
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.equal(server.requests.length, 2 * CHUNKS)
  })

  it('retries a chunk whose connection is reset in the middle of the body', async () => {
    const next = attempts()
    const server = await env.serve((req, res) => {
      const { chunk, attempt } = next(req)
      if (chunk === 1 && attempt === 1) {
        res.writeHead(206, { 'Content-Length': CHUNK })
        res.write(blob.data.subarray(CHUNK, CHUNK + CHUNK / 2), () => { res.socket?.destroy() })
        return
      }
      sendBlob(req, res, blob.data)
    })
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    const tries = startsIn(rangeStarts(server.requests), 1)
    assert.equal(tries.length, 2)
    // The retry may resume after the bytes that arrived, never after bytes that did not.
    assert.ok((tries[1] as number) <= CHUNK + CHUNK / 2, `retry started at ${String(tries[1])}`)
  })

  it('aborts a response that stalls after some bytes and fetches the chunk again', async () => {
    const next = attempts()
    let stalled: ServerResponse | undefined
    let stalledClosed = false
    const server = await env.serve((req, res) => {
      const { chunk, attempt } = next(req)
      if (chunk === 2 && attempt === 1) {
        stalled = res
        res.on('close', () => { stalledClosed = true })
        res.writeHead(206, { 'Content-Length': CHUNK })
        res.write(blob.data.subarray(2 * CHUNK, 2 * CHUNK + 1000))
        return
      }
      sendBlob(req, res, blob.data)
    })
    const started = Date.now()
    const partial = await env.download(server, blob, { stallTimeoutMs: 200 })
    assert.ok(Date.now() - started >= 190, 'finished before the stall timeout could fire')
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.ok(stalled !== undefined)
    await waitFor(() => stalledClosed, 5000, 'the client to drop the stalled response')
    const tries = startsIn(rangeStarts(server.requests), 2)
    assert.equal(tries.length, 2)
    assert.ok((tries[1] as number) <= 2 * CHUNK + 1000, `retry started at ${String(tries[1])}`)
  })

  it('resumes an aborted download after a restart, fetching only the missing chunks', async () => {
    const ac = new AbortController()
    let served = 0
    let interrupt = true
    const server = await env.serve((req, res) => {
      // Cancel once two chunks are on disk: with one request at a time they come in order.
      if (interrupt && parseRange(req.headers.range, blob.size)?.start === 2 * CHUNK) { ac.abort(); res.destroy(); return }
      served += sendBlob(req, res, blob.data)
    })
    await assert.rejects(env.download(server, blob, { concurrency: 1, signal: ac.signal }), failsWith('ABORTED'))
    assert.equal(served, 2 * CHUNK)

    await env.restart()
    interrupt = false
    served = 0
    const seen = server.requests.length
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.equal(served, blob.size - 2 * CHUNK)
    assert.ok(served < blob.size)
    assert.deepEqual(rangeStarts(server.requests.slice(seen)).sort((a, b) => a - b), [2 * CHUNK, 3 * CHUNK])
  })

  it('resumes inside a chunk after a restart from the bytes already on disk', async () => {
    const ac = new AbortController()
    let interrupt = true
    let served = 0
    let done = 0
    const server = await env.serve((req, res) => {
      const r = parseRange(req.headers.range, blob.size)
      if (interrupt && r !== undefined && r.start <= CHUNK && r.end > CHUNK) {
        // Up to half of chunk 1 (one request may ask for a run of chunks), then silence until the client gives up.
        res.writeHead(206, { 'Content-Length': r.end - r.start, 'Content-Range': `bytes ${r.start}-${r.end - 1}/${blob.size}` })
        res.write(blob.data.subarray(r.start, CHUNK + CHUNK / 2))
        return
      }
      served += sendBlob(req, res, blob.data)
    })
    const first = env.download(server, blob, { concurrency: 1, signal: ac.signal, onProgress: (c) => { done = c } })
    await waitFor(() => done >= CHUNK + CHUNK / 2, 5000, 'half of chunk 1 on disk')
    ac.abort()
    await assert.rejects(first, failsWith('ABORTED'))

    await env.restart()
    interrupt = false
    served = 0
    const seen = server.requests.length
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.deepEqual(rangeStarts(server.requests.slice(seen)).sort((a, b) => a - b), [CHUNK + CHUNK / 2, 2 * CHUNK, 3 * CHUNK])
    assert.equal(served, blob.size - CHUNK - CHUNK / 2)
  })

  it('discards the data when the bytes do not match the digest, so the next try starts from zero', async () => {
    const corrupt = Buffer.from(blob.data)
    corrupt[CHUNK + 7] = (corrupt[CHUNK + 7] as number) ^ 0xff
    let data: Buffer = corrupt
    let served = 0
    const server = await env.serve((req, res) => { served += sendBlob(req, res, data) })
    await assert.rejects(env.download(server, blob), failsWith('DIGEST_MISMATCH'))
    const { layout, db } = env.store()
    await assert.rejects(stat(layout.partial(blob.digest)), /ENOENT/)
    assert.equal(await db.get(`partial/${blob.digest}`), undefined)

    data = blob.data
    served = 0
    const partial = await env.download(server, blob)
    assert.equal(await env.digestOnDisk(partial), blob.digest)
    assert.equal(served, blob.size)
  })

  it('fails a missing blob with BLOB_NOT_FOUND without retrying', async () => {
    const server = await env.serve((_req, res) => { res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}') })
    await assert.rejects(env.download(server, blob, { concurrency: 1, retries: 5 }), failsWith('BLOB_NOT_FOUND'))
    assert.equal(server.requests.length, 1)
  })

  it('gives up after the configured number of retries of one chunk', async () => {
    const server = await env.serve((_req, res) => { res.writeHead(503).end() })
    await assert.rejects(env.download(server, blob, { concurrency: 1, retries: 2 }), failsWith('REGISTRY_ERROR'))
    assert.equal(server.requests.length, 3)
  })

  it('refuses a body longer than the range it answers', async () => {
    const server = await env.serve((req, res) => {
      const r = parseRange(req.headers.range, blob.size)
      res.writeHead(206, { 'Content-Length': (r?.end ?? 0) - (r?.start ?? 0) + 1 }).end(blob.data.subarray(r?.start, (r?.end ?? 0) + 1))
    })
    await assert.rejects(env.download(server, blob, { concurrency: 1, retries: 1 }), failsWith('REGISTRY_ERROR'))
  })

  it('completes an empty blob', async () => {
    const empty = makeBlob(0)
    const server = await env.serve((req, res) => { sendBlob(req, res, empty.data) })
    const partial = await env.download(server, empty)
    assert.ok(partial.bitmap.full())
    assert.equal(await env.digestOnDisk(partial), empty.digest)
  })
})
