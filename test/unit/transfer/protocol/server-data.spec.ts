import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { BlobRequest, BlobResponse } from '../../../../proto/blob.js'
import { systemClock } from '../../../../src/util/clock.js'
import { chunkSize, digestBytes } from '../../../../src/store/index.js'
import { createBlobProtocolHandler } from '../../../../src/transfer/protocol/server.js'
import { MAX_HEADER_BYTES } from '../../../../src/transfer/protocol/wire.js'
import { takeFrame, type RequestChannel } from '../../../../src/p2p/index.js'
import { makeBlob } from '../../../fixtures/blob.js'
import { chunkOf, memoryLocalBlobs } from '../../../fixtures/local-blobs.js'
import { waitFor } from '../../../fixtures/wait-for.js'

const MiB = 1024 * 1024
const blob = makeBlob(chunkSize(10 * MiB) + 1000, 'blob-on-data')

/** A data connection as the handler sees it, keeping what was written to it. */
function channel (): RequestChannel & { bytes: () => Buffer, destroyed: boolean } {
  const parts: Buffer[] = []
  const ac = new AbortController()
  const ch = {
    peer: 'asker',
    signal: ac.signal,
    destroyed: false,
    write: async (d: Uint8Array) => { parts.push(Buffer.from(d)) },
    hold: () => () => {},
    destroy: () => { ch.destroyed = true; ac.abort() },
    bytes: () => Buffer.concat(parts)
  }
  return ch
}

/** The header and the body that follow it on a channel. */
function answerOn (ch: ReturnType<typeof channel>): { header: BlobResponse, body: Uint8Array } {
  const got = takeFrame(ch.bytes(), MAX_HEADER_BYTES)
  assert.ok(got !== undefined, 'a whole header')
  return { header: BlobResponse.decode(got.frame), body: got.rest }
}

/** Local blobs holding `blob`, whose reads wait until `open`. */
function gatedLocal (): { local: ReturnType<typeof memoryLocalBlobs>, open: () => void } {
  const local = memoryLocalBlobs()
  local.add(blob)
  let open = (): void => {}
  const gate = new Promise<void>(resolve => { open = resolve })
  local.beforeRead = async () => { await gate }
  return { local, open }
}

const request = (r: Partial<BlobRequest>): Uint8Array => BlobRequest.encode({ kind: BlobRequest.Kind.CHUNK, digest: digestBytes(blob.digest) as Uint8Array<ArrayBuffer>, index: 0, dataPlane: false, ...r })

describe('/ollamad/blob/1.0.0 requests on a data connection', () => {
  it('answers a chunk with its header and bytes on the connection, and counts the request as data', async () => {
    const local = memoryLocalBlobs()
    local.add(blob)
    const via: string[] = []
    const handler = createBlobProtocolHandler({ local, clock: systemClock, onRequest: (v) => via.push(v) })
    const ch = channel()
    await handler.onData(request({ index: 1 }), ch)
    const { header, body } = answerOn(ch)
    assert.equal(header.status, BlobResponse.Status.OK)
    assert.equal(header.ticket.byteLength, 0, 'no ticket: the bytes follow on the same connection')
    assert.ok(Buffer.from(body).equals(Buffer.from(chunkOf(blob.data, 1))))
    assert.deepEqual(via, ['data'])
    assert.equal(handler.active(), 0)
  })

  it('answers a malformed request with BAD_REQUEST and a request past the cap with BUSY, leaving the connection open', async () => {
    const { local, open } = gatedLocal()
    const handler = createBlobProtocolHandler({ local, clock: systemClock }, { maxConcurrent: 1 })
    const bad = channel()
    await handler.onData(new Uint8Array([0xff, 0xff]), bad)
    assert.equal(answerOn(bad).header.status, BlobResponse.Status.BAD_REQUEST)
    const first = channel()
    const serving = handler.onData(request({}), first)
    await waitFor(() => local.reads.length === 1, 5000, 'the first read')
    const second = channel()
    await handler.onData(request({ index: 1 }), second)
    assert.equal(answerOn(second).header.status, BlobResponse.Status.BUSY)
    assert.equal(answerOn(second).body.byteLength, 0)
    assert.equal(second.destroyed, false)
    open()
    await serving
    assert.equal(answerOn(first).body.byteLength, chunkSize(blob.size))
  })

  it('keeps room for requests other than chunks while chunk requests fill theirs', async () => {
    const { local, open } = gatedLocal()
    // Chunk requests may take maxConcurrent - 8 places: one here.
    const handler = createBlobProtocolHandler({ local, clock: systemClock }, { maxConcurrent: 9 })
    const first = channel()
    const serving = handler.onData(request({}), first)
    await waitFor(() => local.reads.length === 1, 5000, 'the first read')
    // As many more chunk requests as there are places: each is refused at once, so none takes one.
    const more = Array.from({ length: 9 }, () => channel())
    for (const ch of more) void handler.onData(request({ index: 1 }), ch)
    await waitFor(() => more.every(ch => ch.bytes().byteLength > 0), 2000, 'an answer to every further chunk request')
    for (const ch of more) assert.equal(answerOn(ch).header.status, BlobResponse.Status.BUSY)
    await waitFor(() => handler.active() === 1, 2000, 'the refused requests to let go of their places')
    const have = channel()
    await handler.onData(request({ kind: BlobRequest.Kind.HAVE }), have)
    assert.equal(answerOn(have).header.status, BlobResponse.Status.OK, 'a bitmap while the chunk requests are full')
    assert.equal(answerOn(have).header.complete, true)
    open()
    await serving
    assert.equal(answerOn(first).body.byteLength, chunkSize(blob.size))
    const third = channel()
    await handler.onData(request({ index: 1 }), third)
    assert.equal(answerOn(third).header.status, BlobResponse.Status.OK, 'room again once the first is done')
  })

  it('relays an arriving chunk on the connection, and the download may reuse its buffer once the relay is done', async () => {
    const local = memoryLocalBlobs()
    local.add(blob, { chunks: [] })
    const len = chunkSize(blob.size)
    const buf = new Uint8Array(len)
    const h = local.arrivals.begin(blob.digest, 0, buf, len)
    assert.ok(h !== undefined)
    const handler = createBlobProtocolHandler({ local, clock: systemClock })
    const ch = channel()
    const serving = handler.onData(request({}), ch)
    await waitFor(() => ch.bytes().byteLength > 0, 5000, 'the relay\'s header')
    let reused = false
    buf.set(chunkOf(blob.data, 0))
    h.progress(len)
    h.land()
    h.release(() => { reused = true })
    assert.equal(reused, false, 'the relay still reads the buffer')
    await serving
    assert.ok(Buffer.from(answerOn(ch).body).equals(Buffer.from(chunkOf(blob.data, 0))))
    assert.equal(reused, true, 'every slice was taken by the connection: the buffer is free')
  })
})
