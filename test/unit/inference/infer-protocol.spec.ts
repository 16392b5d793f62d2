import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { frame } from '../../../src/p2p/index.js'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import { createInferHandler, createInferService, requestInfer, INFER_PROTOCOL, type InferHead, type LocalServe } from '../../../src/inference/index.js'

const silent = { info: () => {}, error: () => {}, debug: () => {} }
const PEER_A = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const PEER_B = '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5'

describe('inference protocol: what peers may hold here', () => {
  it('answers 503 past the streams per peer, the streams in all and the body bytes in flight, and frees them when done', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>(resolve => { release = resolve })
    const serve: LocalServe = async () => { await held; return { status: 200, contentType: 'application/json', node: 'n', body: [new TextEncoder().encode('{}')] } }
    const handler = createInferHandler(createInferService(serve, silent, { perPeer: 2, total: 3, bodyBytes: 1000 }), silent)
    const ask = async (peer: string, bodyLength: number) => {
      const [out, inbound] = await streamPair({ delay: 0, protocol: INFER_PROTOCOL })
      void handler(inbound, { remotePeer: peerIdFromString(peer) } as unknown as Connection)
      const head: InferHead = { method: 'POST', path: '/api/generate', contentType: 'application/json', priority: 'normal', model: 'm', bodyLength }
      return requestInfer(async () => out, head, new Uint8Array(bodyLength), AbortSignal.timeout(5000))
    }
    const a1 = ask(PEER_A, 10)
    const a2 = ask(PEER_A, 10)
    assert.equal((await ask(PEER_A, 10)).status, 503, 'a third stream from one peer')
    const b1 = ask(PEER_B, 900)
    assert.equal((await ask(PEER_B, 10)).status, 503, 'a fourth stream in all')
    release()
    for (const p of [a1, a2, b1]) assert.equal((await p).status, 200)
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal((await ask(PEER_B, 1001)).status, 503, 'a body over the bytes in flight')
    assert.equal((await ask(PEER_B, 1000)).status, 200, 'freed again')
  })

  it('cuts a peer that sends more than the body it declared, before or after its head is read', async () => {
    const served: number[] = []
    let release: () => void = () => {}
    const held = new Promise<void>(resolve => { release = resolve })
    const serve: LocalServe = async (_h, body) => { served.push(body.byteLength); await held; return { status: 200, contentType: 'application/json', node: 'n', body: [] } }
    const handler = createInferHandler(createInferService(serve, silent), silent)
    const head = (bodyLength: number): Uint8Array => frame(new TextEncoder().encode(JSON.stringify({ method: 'POST', path: '/api/generate', contentType: 'application/json', priority: 'normal', model: 'm', bodyLength })))
    const closed = (s: Stream): Promise<void> => new Promise(resolve => { s.addEventListener('close', () => { resolve() }) })

    // All at once: the excess is there before the head is read.
    const [out1, in1] = await streamPair({ delay: 0, protocol: INFER_PROTOCOL })
    const done1 = handler(in1, { remotePeer: peerIdFromString(PEER_A) } as unknown as Connection)
    out1.send(Buffer.concat([head(10), new Uint8Array(10), new Uint8Array(3 * 1024 * 1024)]))
    await done1
    assert.equal(in1.status, 'aborted')
    assert.deepEqual(served, [], 'nothing reached the local serve')

    // The declared body first, more later while the request runs.
    const [out2, in2] = await streamPair({ delay: 0, protocol: INFER_PROTOCOL })
    const gone = closed(in2)
    const done2 = handler(in2, { remotePeer: peerIdFromString(PEER_A) } as unknown as Connection)
    out2.send(Buffer.concat([head(10), new Uint8Array(10)]))
    while (served.length === 0) await new Promise(resolve => setTimeout(resolve, 5))
    out2.send(new Uint8Array(100))
    await gone
    assert.equal(in2.status, 'aborted')
    assert.deepEqual(served, [10])
    release()
    await done2
  })
})

