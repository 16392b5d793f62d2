import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { OllamadError } from '../../../src/errors.js'
import { DATA_ALPN_INFER, frame } from '../../../src/p2p/index.js'
import { streamPair } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import { createInferClient, createInferDataHandler, createInferHandler, createInferService, requestInfer, encodeInferRequest, sendInferRequest, INFER_PROTOCOL, MAX_DATA_INFER_REQUEST, type InferAnswer, type InferClient, type InferHead, type InferLimits, type InferService, type LocalServe } from '../../../src/inference/index.js'
import { systemClock } from '../../../src/util/clock.js'
import { codeOf, dataNodes, type DataNode } from '../../fixtures/data-plane.js'
import { waitFor } from '../../fixtures/wait-for.js'

const silent = { info: () => {}, error: () => {}, debug: () => {} }
const enc = new TextEncoder()

const head = (body: Uint8Array, o: Partial<InferHead> = {}): InferHead => ({ method: 'POST', path: '/api/generate', contentType: 'application/json', priority: 'normal', model: 'm', bodyLength: body.byteLength, ...o })

/** A request on a data connection, as the client sends one that fits. */
const requestInferData = async (plane: DataNode['plane'], peer: string, h: InferHead, body: Uint8Array, signal: AbortSignal): Promise<InferAnswer> =>
  await sendInferRequest(plane, peer, encodeInferRequest(h, body) as Uint8Array, signal)

const text = async (a: InferAnswer): Promise<string> => {
  const parts: Uint8Array[] = []
  for await (const p of a.body) parts.push(p)
  return Buffer.concat(parts).toString('utf8')
}

/** Answers requests on `holder`'s data port with `service`, as the daemon registers it. */
const handleWith = (holder: DataNode, service: InferService, writeStallMs?: number): void => {
  holder.plane.handle(createInferDataHandler(service, { clock: systemClock, writeStallMs }), MAX_DATA_INFER_REQUEST, DATA_ALPN_INFER)
}
const serveOn = (holder: DataNode, serve: LocalServe, limits?: InferLimits, writeStallMs?: number): void => {
  handleWith(holder, createInferService(serve, silent, limits), writeStallMs)
}
const ok = (body: InferAnswer['body'] = [enc.encode('{}')]): InferAnswer => ({ status: 200, contentType: 'application/json', node: 'n', body })
const connectionsFrom = (holder: DataNode, asker: DataNode): number => holder.lines.filter(l => l.includes(`data connection from ${asker.id}`) && l.includes(`(${DATA_ALPN_INFER})`)).length

describe('inference on a data connection', () => {
  const made = dataNodes()
  afterEach(made.stop)

  it('streams answers in pieces and takes the next request on the same connection', async () => {
    const [asker, holder] = await made.pair()
    const big = 'x'.repeat(200_000)
    const bodies: string[] = []
    serveOn(holder, async (h, body) => {
      bodies.push(Buffer.from(body).toString('utf8'))
      const pieces = [enc.encode('{"response":"a"}\n'), enc.encode('{"response":"b"}\n'), enc.encode(big)]
      return { status: 200, contentType: 'application/x-ndjson', node: 'holder', body: pieces }
    })
    for (const prompt of ['one', 'two', 'three']) {
      const body = enc.encode(JSON.stringify({ model: 'm', prompt }))
      const a = await requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))
      assert.equal(a.status, 200)
      assert.equal(a.node, 'holder')
      assert.equal(a.contentType, 'application/x-ndjson')
      assert.equal(await text(a), `{"response":"a"}\n{"response":"b"}\n${big}`)
    }
    assert.deepEqual(bodies.map(b => JSON.parse(b).prompt), ['one', 'two', 'three'])
    assert.equal(connectionsFrom(holder, asker), 1, 'one connection for three requests')
  })

  it('refuses anything but inference with a 403, and it never reaches the local serve', async () => {
    const [asker, holder] = await made.pair()
    let served = 0
    serveOn(holder, async () => { served++; return { status: 200, contentType: 'application/json', node: 'n', body: [] } })
    const body = enc.encode('{"model":"victim"}')
    const a = await requestInferData(asker.plane, holder.id, head(body, { method: 'DELETE', path: '/api/delete' }), body, AbortSignal.timeout(5000))
    assert.equal(a.status, 403)
    assert.match(await text(a), /carries only POST/)
    assert.equal(served, 0)
  })

  it('answers 503 past a peer\'s share of requests', async () => {
    const [asker, holder] = await made.pair()
    let free: () => void = () => {}
    const held = new Promise<void>(resolve => { free = resolve })
    serveOn(holder, async () => { await held; return { status: 200, contentType: 'application/json', node: 'n', body: [enc.encode('{}')] } }, { perPeer: 1, total: 4, bodyBytes: 1000 })
    const body = enc.encode('{}')
    const first = requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))
    await waitFor(() => connectionsFrom(holder, asker) === 1, 5000, 'the first request')
    await new Promise(resolve => setTimeout(resolve, 50))
    const second = await requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))
    assert.equal(second.status, 503)
    assert.match(await text(second), /busy/)
    free()
    assert.equal((await first).status, 200)
    assert.equal(await text(await first), '{}')
    // The share came back with the answer: a third request is taken.
    assert.equal((await requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))).status, 200)
  })

  it('shares one set of limits with the libp2p way in', async () => {
    const [asker, holder] = await made.pair()
    let free: () => void = () => {}
    const held = new Promise<void>(resolve => { free = resolve })
    const service = createInferService(async () => { await held; return ok() }, silent, { perPeer: 1, total: 4, bodyBytes: 1000 })
    handleWith(holder, service)
    const body = enc.encode('{}')
    const first = requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))
    await waitFor(() => connectionsFrom(holder, asker) === 1, 5000, 'the first request')
    await new Promise(resolve => setTimeout(resolve, 50))
    // The same peer over a libp2p stream: its one request is taken already.
    const [out, inbound] = await streamPair({ delay: 0, protocol: INFER_PROTOCOL })
    void createInferHandler(service, silent)(inbound, { remotePeer: peerIdFromString(asker.id) } as unknown as Connection)
    assert.equal((await requestInfer(async () => out, head(body), body, AbortSignal.timeout(5000))).status, 503)
    free()
    assert.equal((await first).status, 200)
  })

  it('keeps a slow answer past the idle timeout, and an asker that goes away stops the work', async () => {
    const [asker, holder] = await made.pair({ idleTimeoutMs: 200 })
    let stopped: unknown
    serveOn(holder, async (_h, _b, signal) => {
      // A model that takes longer to load than the connection may stay idle.
      await new Promise(resolve => setTimeout(resolve, 500))
      async function * tokens (): AsyncGenerator<Uint8Array> {
        yield enc.encode('first\n')
        await new Promise<void>(resolve => { signal.addEventListener('abort', () => { stopped = signal.reason; resolve() }, { once: true }) })
      }
      return { status: 200, contentType: 'application/x-ndjson', node: 'n', body: tokens() }
    })
    const ac = new AbortController()
    const body = enc.encode('{}')
    const a = await requestInferData(asker.plane, holder.id, head(body), body, ac.signal)
    assert.equal(a.status, 200)
    const it = (a.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
    assert.equal(Buffer.from((await it.next()).value as Uint8Array).toString(), 'first\n')
    ac.abort()
    await waitFor(() => stopped !== undefined, 5000, 'the holder to stop the generation')
  })

  it('puts the idle timeout back after an answer, and ends an answer nobody reads', async () => {
    const [asker, holder] = await made.pair({ idleTimeoutMs: 300 })
    const big = new Uint8Array(16 * 1024 * 1024)
    let bigAnswers = 0
    serveOn(holder, async (_h, b) => {
      if (Buffer.from(b).toString() !== 'big') return ok()
      bigAnswers++
      return ok([big])
    }, { perPeer: 1, total: 4, bodyBytes: 1000 }, 400)
    const small = enc.encode('{}')
    assert.equal(await text(await requestInferData(asker.plane, holder.id, head(small), small, AbortSignal.timeout(5000))), '{}')
    // Idle past the holder's timeout: the connection it kept is gone, so the next request dials again.
    await new Promise(resolve => setTimeout(resolve, 700))
    assert.equal(await text(await requestInferData(asker.plane, holder.id, head(small), small, AbortSignal.timeout(5000))), '{}')
    assert.equal(connectionsFrom(holder, asker), 2)
    // An answer far larger than the socket buffers, never read: the holder ends it, and its share frees.
    const bigBody = enc.encode('big')
    const unread = await requestInferData(asker.plane, holder.id, head(bigBody), bigBody, AbortSignal.timeout(10_000))
    assert.equal(unread.status, 200)
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.equal((await requestInferData(asker.plane, holder.id, head(small), small, AbortSignal.timeout(5000))).status, 200, 'the one request of this peer is free again')
    assert.equal(bigAnswers, 1)
  })

  it('an answer cut in the middle fails for the asker, not ends short as if whole', async () => {
    const [asker, holder] = await made.pair()
    serveOn(holder, async () => {
      async function * cut (): AsyncGenerator<Uint8Array> {
        yield enc.encode('{"response":"Hel"}\n')
        throw new Error('Ollama went away')
      }
      return ok(cut())
    })
    const body = enc.encode('{}')
    const a = await requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(5000))
    assert.equal(a.status, 200)
    assert.equal(await codeOf(text(a)), 'PEER_UNAVAILABLE')
  })

  it('a peer that leaves takes its requests in flight with it', async () => {
    const [asker, holder] = await made.pair()
    serveOn(holder, async () => await new Promise<InferAnswer>(() => {}))
    const body = enc.encode('{}')
    const waiting = requestInferData(asker.plane, holder.id, head(body), body, AbortSignal.timeout(10_000))
    await waitFor(() => connectionsFrom(holder, asker) === 1, 5000, 'the request')
    asker.plane.dropPeer(holder.id)
    assert.equal(await codeOf(waiting), 'PEER_UNAVAILABLE')
  })

  it('ends a connection whose request sends other than the body it declared, and serves nothing', async () => {
    const [asker, holder] = await made.pair()
    let served = 0
    serveOn(holder, async () => { served++; return { status: 200, contentType: 'application/json', node: 'n', body: [] } })
    const lease = await asker.plane.frames(holder.id, DATA_ALPN_INFER, frame(Buffer.concat([frame(enc.encode(JSON.stringify(head(new Uint8Array(10))))), Buffer.alloc(3)])), { signal: AbortSignal.timeout(5000), dialMs: 5000 })
    assert.equal(await codeOf(lease.conn.next({ signal: AbortSignal.timeout(5000), maxBytes: 65536, stallMs: 5000 })), 'PEER_UNAVAILABLE')
    lease.done(false)
    assert.equal(served, 0)
  })
})

describe('inference client: the way to a peer', () => {
  const body = enc.encode('{}')
  const ask = AbortSignal.timeout.bind(AbortSignal, 1000)
  /** A client whose data plane fails every request with `code`, and whose libp2p dials fail (or hang). */
  const counted = (code: string, hang = false): { client: InferClient, tries: () => number, dials: () => number } => {
    let tries = 0
    let dials = 0
    const client = createInferClient({
      clock: systemClock,
      data: { direct: () => true, frames: async () => { tries++; throw new OllamadError(code as 'DATA_UNREACHABLE', 'refused') } },
      dial: async () => { dials++; if (hang) return await new Promise<Stream>(() => {}); throw new OllamadError('PEER_UNAVAILABLE', 'libp2p dialled') }
    })
    return { client, tries: () => tries, dials: () => dials }
  }

  it('goes over libp2p when the data port cannot be reached, and leaves the port alone for a while', async () => {
    const c = counted('DATA_UNREACHABLE')
    assert.equal(await codeOf(c.client.request('p', head(body), body, ask())), 'PEER_UNAVAILABLE')
    assert.equal(await codeOf(c.client.request('p', head(body), body, ask())), 'PEER_UNAVAILABLE')
    assert.deepEqual([c.tries(), c.dials()], [1, 2])
  })

  it('sends a large body over libp2p; another failure on the data connection is the caller\'s to see', async () => {
    const c = counted('PEER_UNAVAILABLE', true)
    const large = new Uint8Array(MAX_DATA_INFER_REQUEST)
    void c.client.request('p', head(large), large, ask()).catch(() => {})
    await waitFor(() => c.dials() === 1, 1000, 'a libp2p dial')
    assert.equal(c.tries(), 0)
    // A holder that took the connection and failed: the route tries another node, not libp2p to the same one.
    assert.equal(await codeOf(c.client.request('p', head(body), body, ask())), 'PEER_UNAVAILABLE')
    assert.deepEqual([c.tries(), c.dials()], [1, 1])
  })
})
