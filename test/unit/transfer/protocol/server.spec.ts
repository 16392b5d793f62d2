import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { byteStream, streamPair } from '@libp2p/utils'
import { BlobRequest, BlobResponse } from '../../../../proto/blob.js'
import { isOllamadError, type ErrorCode } from '../../../../src/errors.js'
import { systemClock } from '../../../../src/util/clock.js'
import { chunkCount, chunkRange, chunkSize, computeChunkMap, digestBytes } from '../../../../src/store/index.js'
import { createBlobProtocolHandler } from '../../../../src/transfer/protocol/server.js'
import { BLOB_PROTOCOL, MAX_HEADER_BYTES, SEND_SLICE } from '../../../../src/transfer/protocol/wire.js'
import { frame, readFrame } from '../../../../src/p2p/index.js'
import type { ArrivalHandle } from '../../../../src/transfer/serving/arrivals.js'
import { makeBlob, sha256 } from '../../../fixtures/blob.js'
import { chunkOf, memoryLocalBlobs } from '../../../fixtures/local-blobs.js'
import { createTestSwarm, type TestSwarm } from '../../../fixtures/swarm.js'
import { createFakeClock } from '../../../fixtures/fake-clock.js'
import { waitFor } from '../../../fixtures/wait-for.js'

const MiB = 1024 * 1024
const blob = makeBlob(chunkSize(10 * MiB) + 1000, 'blob-protocol')
const manifest = new TextEncoder().encode('{"schemaVersion":2}')

const failsWith = (code: ErrorCode) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  return true
}

/** Sends raw bytes on a fresh stream to a handler and reads the header it answers, or null if it cuts the stream. */
async function rawExchange (handler: (s: Stream) => Promise<void>, bytes: Uint8Array): Promise<BlobResponse | null> {
  const [out, inbound] = await streamPair({ delay: 0, protocol: BLOB_PROTOCOL })
  const served = handler(inbound)
  const bs = byteStream(out, { maxBufferSize: 32 * MiB })
  try { out.send(bytes) } catch {}
  await out.close().catch(() => {})
  try {
    return BlobResponse.decode(await readFrame(bs, MAX_HEADER_BYTES, AbortSignal.timeout(5000)))
  } catch {
    return null
  } finally {
    await served
  }
}

describe('/ollamad/blob/1.0.0', function () {
  this.timeout(10_000)
  let swarm: TestSwarm

  beforeEach(() => {
    swarm = createTestSwarm()
    const peer = swarm.add('holder')
    peer.local.add(blob, { chunks: [1] })
    peer.local.manifests.set(sha256(manifest), manifest)
  })
  afterEach(() => { swarm.close() })

  it('answers have with the size and the bitmap of verified chunks', async () => {
    const h = await swarm.client().have('holder', blob.digest)
    assert.ok(h !== undefined)
    assert.equal(h.size, blob.size)
    assert.equal(h.complete, false)
    assert.deepEqual([h.bitmap.get(0), h.bitmap.get(1)], [false, true])
    assert.equal(await swarm.client().have('holder', makeBlob(10, 'other').digest), undefined)
  })

  it('serves a held chunk byte for byte and refuses one it lacks', async () => {
    const client = swarm.client()
    const len = blob.size - chunkSize(blob.size)
    const got = await client.chunk('holder', blob.digest, 1, len)
    assert.deepEqual(Buffer.from(got), Buffer.from(chunkOf(blob.data, 1)))
    await assert.rejects(client.chunk('holder', blob.digest, 0, chunkSize(blob.size)), failsWith('BLOB_NOT_FOUND'))
    await assert.rejects(client.chunk('holder', blob.digest, 7, 10), failsWith('BLOB_NOT_FOUND'))
  })

  it('fails a chunk whose announced length is not the one expected, before reading it', async () => {
    const len = blob.size - chunkSize(blob.size)
    await assert.rejects(swarm.client().chunk('holder', blob.digest, 1, len - 1), failsWith('PEER_PROTOCOL'))
    await assert.rejects(swarm.client().chunk('holder', blob.digest, 1, len + 1), failsWith('PEER_PROTOCOL'))
  })

  it('serves manifests by digest and chunk maps checked against their CID', async () => {
    const peer = swarm.peers.get('holder')
    assert.ok(peer !== undefined)
    const full = makeBlob(100, 'mapped')
    peer.local.add(full)
    const map = await computeChunkMap(async (buf, pos, len) => { buf.set(full.data.subarray(pos, pos + len)); return Math.min(len, full.size - pos) }, full.size)
    peer.local.chunkMaps.set(full.digest, map.bytes)
    const client = swarm.client()
    assert.deepEqual(await client.manifest('holder', sha256(manifest)), manifest)
    assert.equal(await client.manifest('holder', full.digest), undefined)
    const got = await client.chunkMap('holder', full.digest, { expectedCid: map.cid, expectedSize: full.size })
    assert.deepEqual(got?.chain, map.chain)
    await assert.rejects(client.chunkMap('holder', full.digest, { expectedCid: (await computeChunkMap(async () => 0, 0)).cid }), failsWith('CHUNK_MAP_INVALID'))
    // A map whose chain ends anywhere but the blob's digest is refused, though its CID is the one asked for.
    const other = makeBlob(full.size, 'another blob')
    const wrong = await computeChunkMap(async (buf, pos, len) => { buf.set(other.data.subarray(pos, pos + len)); return Math.min(len, other.size - pos) }, other.size)
    peer.local.chunkMaps.set(full.digest, wrong.bytes)
    await assert.rejects(client.chunkMap('holder', full.digest, { expectedCid: wrong.cid, expectedSize: full.size }), (e: unknown) => isOllamadError(e, 'CHUNK_MAP_INVALID') && /does not end in/.test(e.message))
  })

  it('rejects a manifest whose bytes do not hash to the digest asked for', async () => {
    const peer = swarm.peers.get('holder')
    const liar = makeBlob(32, 'liar').digest
    peer?.local.manifests.set(liar, manifest)
    await assert.rejects(swarm.client().manifest('holder', liar), failsWith('DIGEST_MISMATCH'))
  })

  it('answers garbage, oversized and wrong-length-digest requests with BAD_REQUEST or a cut stream, and keeps serving', async () => {
    const local = memoryLocalBlobs()
    local.add(blob)
    const handler = createBlobProtocolHandler({ local, clock: systemClock })
    const req = (r: Partial<BlobRequest>): Uint8Array => frame(BlobRequest.encode(r))
    const bad: Array<[string, Uint8Array]> = [
      ['a 31-byte digest', req({ kind: BlobRequest.Kind.CHUNK, digest: new Uint8Array(31) })],
      ['a 33-byte digest', req({ kind: BlobRequest.Kind.HAVE, digest: new Uint8Array(33) })],
      ['no digest', req({ kind: BlobRequest.Kind.HAVE })],
      ['an unknown kind', frame(new Uint8Array([0x08, 0x09, 0x12, 0x20, ...new Uint8Array(32)]))],
      ['protobuf garbage', frame(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]))],
      ['a 1 MiB frame', frame(new Uint8Array(MiB))],
      ['a length prefix that never ends', new Uint8Array(16).fill(0xff)]
    ]
    for (const [what, bytes] of bad) {
      const res = await rawExchange(handler, bytes)
      assert.ok(res === null || res.status === BlobResponse.Status.BAD_REQUEST, `${what}: answered ${res?.status ?? 'nothing'}`)
      assert.equal(handler.active(), 0, `${what}: the stream is released`)
    }
    const ok = await rawExchange(handler, req({ kind: BlobRequest.Kind.HAVE, digest: digestBytes(blob.digest) as Uint8Array<ArrayBuffer> }))
    assert.equal(ok?.status, BlobResponse.Status.OK)
    assert.equal(ok?.size, BigInt(blob.size))
  })

  it('drops a stream whose request never comes, after the request timeout', async () => {
    const clock = createFakeClock()
    const handler = createBlobProtocolHandler({ local: memoryLocalBlobs(), clock }, { requestTimeoutMs: 1000 })
    const [out, inbound] = await streamPair({ delay: 0, protocol: BLOB_PROTOCOL })
    const served = handler(inbound)
    assert.equal(handler.active(), 1)
    clock.advance(1000)
    await served
    assert.equal(handler.active(), 0)
    assert.notEqual(inbound.status, 'open')
    out.abort(new Error('test done'))
  })

  it('answers BUSY beyond its concurrent streams', async () => {
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const slow = swarm.add('slow', { server: { maxConcurrent: 1 } })
    slow.local.add(blob)
    slow.local.beforeRead = async () => { await gate }
    const client = swarm.client()
    const first = client.chunk('slow', blob.digest, 0, chunkSize(blob.size))
    await waitFor(() => slow.local.reads.length === 1, 5000, 'the first read')
    await assert.rejects(client.have('slow', blob.digest), failsWith('PEER_BUSY'))
    release()
    assert.equal((await first).byteLength, chunkSize(blob.size))
    await waitFor(() => slow.handler.active() === 0, 5000, 'the first stream to end')
    assert.ok((await client.have('slow', blob.digest))?.complete)
  })

  /** A holder with one upload slot whose reads wait until `release`. */
  const slottedHolder = (slotWaitMs: number): { slotted: ReturnType<TestSwarm['add']>, release: () => void } => {
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const slotted = swarm.add('slotted', { server: { uploadSlots: 1, slotWaitMs } })
    slotted.local.add(blob)
    slotted.local.beforeRead = async () => { await gate }
    return { slotted, release }
  }

  it('sends chunks through a few upload slots in arrival order, and answers BUSY after the slot wait', async () => {
    const { slotted, release } = slottedHolder(300)
    const client = swarm.client()
    const first = client.chunk('slotted', blob.digest, 0, chunkSize(blob.size))
    await waitFor(() => slotted.local.reads.length === 1, 5000, 'the first read')
    const second = client.chunk('slotted', blob.digest, 1, blob.size - chunkSize(blob.size))
    assert.ok((await client.have('slotted', blob.digest))?.complete, 'bitmaps need no slot')
    await assert.rejects(second, failsWith('PEER_BUSY'))
    assert.equal(slotted.local.reads.length, 1, 'the waiting chunk was never read')
    const third = client.chunk('slotted', blob.digest, 1, blob.size - chunkSize(blob.size))
    release()
    assert.equal((await first).byteLength, chunkSize(blob.size))
    assert.deepEqual(Buffer.from(await third), Buffer.from(blob.data.subarray(chunkSize(blob.size))), 'the next in line gets the freed slot')
  })

  /** A holder of a 4-chunk blob with one upload slot, its reads (or only those of chunk `gated`) held until `open`, and `holders` other holders of each chunk. */
  const rankedHolder = (id: string, holders: Map<number, number>, queueAgeMs?: number, gated?: number): { slotted: ReturnType<TestSwarm['add']>, ask: (i: number, from?: string) => Promise<Uint8Array>, open: () => void } => {
    const three = makeBlob(3 * chunkSize(MiB) + 10, id)
    let open = (): void => {}
    const gate = new Promise<void>(resolve => { open = resolve })
    const slotted = swarm.add(id, { server: { uploadSlots: 1, slotWaitMs: 60_000, queueAgeMs }, holders: (d, i) => d === three.digest ? holders.get(i) ?? 0 : 0 })
    slotted.local.add(three)
    slotted.local.beforeRead = async (_d, i) => { if (gated === undefined || i === gated) await gate }
    const ask = async (i: number, from?: string): Promise<Uint8Array> => await swarm.client(undefined, undefined, from).chunk(id, three.digest, i, chunkRange(three.size, i).end - chunkRange(three.size, i).start)
    return { slotted, ask, open: () => { open() } }
  }

  it('sends the waiting chunk that fewest other nodes hold first, whatever the order it was asked in', async () => {
    const holders = new Map([[0, 0], [1, 5], [2, 1], [3, 0]])
    const { slotted, ask, open } = rankedHolder('ranked', holders)
    const first = ask(0)
    await waitFor(() => slotted.local.reads.length === 1, 5000, 'the first read')
    const rest = [ask(1), ask(2)]
    await new Promise(resolve => setTimeout(resolve, 50))
    ask(3).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 50))
    holders.set(3, 9) // more holders came while it waited: it goes last
    open()
    await Promise.all([first, ...rest])
    await waitFor(() => slotted.local.reads.length === 4, 5000, 'every read')
    assert.deepEqual(slotted.local.reads.map(r => r.index), [0, 2, 1, 3])
  })

  it('counts a peer it has just sent a chunk to as a holder while no record says so yet', async () => {
    const { slotted, ask, open } = rankedHolder('recent', new Map(), undefined, 0)
    await ask(1, 'a') // sent whole: a holds it now, though its record does not say so yet
    const blocker = ask(0, 'b')
    await waitFor(() => slotted.local.reads.length === 2, 5000, 'the read that holds the slot')
    const queued = async (n: number): Promise<void> => {
      await waitFor(() => slotted.handler.active() === n, 5000, `${n} requests in`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    const served: string[] = []
    const track = async (name: string, p: Promise<Uint8Array>): Promise<void> => { await p; served.push(name) }
    const again = track('again', ask(1, 'c'))
    await queued(2)
    const fresh = track('fresh', ask(2, 'd'))
    await queued(3)
    // a asks again: it does not hold chunk 1 after all, and nobody else does.
    const retry = track('retry', ask(1, 'a'))
    await queued(4)
    open()
    await Promise.all([blocker, again, fresh, retry])
    // The chunks nobody else has go first, though they were asked for later.
    assert.deepEqual(served, ['fresh', 'retry', 'again'])
    assert.deepEqual(slotted.local.reads.map(r => r.index), [1, 0, 2, 1, 1])
  })

  it('lets a request that has waited long enough go before a rarer one asked later', async () => {
    const { slotted, ask, open } = rankedHolder('aged', new Map([[0, 0], [1, 5], [2, 1]]), 50)
    const first = ask(0)
    await waitFor(() => slotted.local.reads.length === 1, 5000, 'the first read')
    const common = ask(1)
    // 500 ms at one holder fewer per 50 ms: chunk 1 ranks 5 - 10, below chunk 2's 1.
    await new Promise(resolve => setTimeout(resolve, 500))
    const rare = ask(2)
    await new Promise(resolve => setTimeout(resolve, 50))
    open()
    await Promise.all([first, common, rare])
    assert.deepEqual(slotted.local.reads.map(r => r.index), [0, 1, 2])
  })

  it('asks for the buffer of a chunk only once the peer begins to serve it, and reads the body into it', async () => {
    const { slotted, release } = slottedHolder(5000)
    const client = swarm.client()
    const asked: number[] = []
    const buffers = [new Uint8Array(chunkSize(blob.size)), new Uint8Array(chunkSize(blob.size))]
    const into = (i: number) => () => { asked.push(i); return buffers[i] as Uint8Array }
    const first = client.chunk('slotted', blob.digest, 0, chunkSize(blob.size), { into: into(0) })
    await waitFor(() => slotted.local.reads.length === 1, 5000, 'the first read')
    const second = client.chunk('slotted', blob.digest, 1, blob.size - chunkSize(blob.size), { into: into(1) })
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.ok(!asked.includes(1), 'a request waiting for an upload slot holds no buffer')
    release()
    const [a, b] = await Promise.all([first, second])
    assert.deepEqual(asked.sort(), [0, 1])
    assert.equal(a.buffer, buffers[0]?.buffer, 'the first body is in its buffer')
    assert.equal(b.buffer, buffers[1]?.buffer, 'the second body is in its buffer')
    assert.deepEqual(Buffer.from(b), Buffer.from(blob.data.subarray(chunkSize(blob.size))))
  })

  it('stops a request that the caller aborts', async () => {
    const slow = swarm.add('stalled')
    slow.local.add(blob)
    slow.local.beforeRead = async () => await new Promise(() => {})
    const ac = new AbortController()
    const p = swarm.client().chunk('stalled', blob.digest, 0, chunkSize(blob.size), { signal: ac.signal })
    await waitFor(() => slow.local.reads.length === 1, 5000, 'the read')
    ac.abort()
    await assert.rejects(p, failsWith('ABORTED'))
  })

  it('gives up on a peer that sends nothing, after the stall timeout', async () => {
    const clock = createFakeClock()
    const slow = swarm.add('mute')
    slow.local.add(blob)
    slow.local.beforeRead = async () => await new Promise(() => {})
    const client = swarm.client({ stallTimeoutMs: 5000 }, clock)
    const p = client.chunk('mute', blob.digest, 0, chunkSize(blob.size))
    await waitFor(() => slow.local.reads.length === 1, 5000, 'the read')
    clock.advance(5000)
    await assert.rejects(p, failsWith('STALLED'))
  })

  /** A peer 'relay' with chunk 0 of the blob arriving (none held), and a request for it that has begun. */
  const relaying = async (): Promise<{ h: ArrivalHandle, buf: Uint8Array, len: number, got: () => number, p: Promise<Uint8Array> }> => {
    const relay = swarm.add('relay')
    relay.local.add(blob, { chunks: [] })
    const len = chunkSize(blob.size)
    const buf = new Uint8Array(len)
    const h = relay.local.arrivals.begin(blob.digest, 0, buf, len)
    assert.ok(h !== undefined)
    let got = 0
    let started = false
    const p = swarm.client().chunk('relay', blob.digest, 0, len, { onBytes: (n) => { got += n }, onStart: () => { started = true } })
    p.catch(() => {})
    await waitFor(() => started, 5000, 'the relay to answer')
    return { h, buf, len, got: () => got, p }
  }

  it('relays a chunk as it arrives, and sends its last slice once the chunk passed its check', async () => {
    const { h, buf, len, got, p } = await relaying()
    const want = chunkOf(blob.data, 0)
    // All but the last 100 KiB arrive: the relay passes them on.
    const most = len - 100 * 1024
    buf.set(want.subarray(0, most))
    h.progress(most)
    await waitFor(() => got() === most, 5000, 'the arrived bytes to be relayed')
    buf.set(want.subarray(most), most)
    h.progress(len)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(got(), len - SEND_SLICE, 'the last slice waits for the check')
    h.land()
    assert.deepEqual(Buffer.from(await p), Buffer.from(want))
  })

  it('cuts a relay whose chunk fails, and refuses the chunk once it no longer arrives', async () => {
    const { h, buf, len, got, p } = await relaying()
    buf.set(chunkOf(blob.data, 0).subarray(0, 2 * SEND_SLICE))
    h.progress(2 * SEND_SLICE)
    await waitFor(() => got() === 2 * SEND_SLICE, 5000, 'the first bytes to be relayed')
    h.fail()
    await assert.rejects(p, failsWith('PEER_UNAVAILABLE'))
    await assert.rejects(swarm.client().chunk('relay', blob.digest, 0, len), failsWith('BLOB_NOT_FOUND'))
  })

  it('fails cleanly when the peer is gone', async () => {
    swarm.peers.get('holder')?.kill()
    await assert.rejects(swarm.client().have('holder', blob.digest), failsWith('PEER_UNAVAILABLE'))
    assert.equal(chunkCount(blob.size), 2)
  })
})

