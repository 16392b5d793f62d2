import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection } from '@libp2p/interface'
import { createInferHandler, requestInfer, INFER_PROTOCOL, type InferHead, type LocalServe } from '../../../src/inference/index.js'

const silent = { info: () => {}, error: () => {}, debug: () => {} }
const PEER_A = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const PEER_B = '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5'

describe('inference protocol: what peers may hold here', () => {
  it('answers 503 past the streams per peer, the streams in all and the body bytes in flight, and frees them when done', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>(resolve => { release = resolve })
    const serve: LocalServe = async () => { await held; return { status: 200, contentType: 'application/json', node: 'n', body: [new TextEncoder().encode('{}')] } }
    const handler = createInferHandler(serve, silent, { perPeer: 2, total: 3, bodyBytes: 1000 })
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
})
