import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionProtector, Stream } from '@libp2p/interface'
import { XSalsaStream } from '../../../src/p2p/xsalsa-stream.js'
import { boundedPreSharedKey } from '../../../src/p2p/pnet.js'
import { newSwarmKey, sendWithBackpressure } from '../../../src/p2p/index.js'

// The cipher stock pnet uses, as the reference for byte compatibility.
const stockXsalsa = createRequire(import.meta.url)('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => { update: (b: Uint8Array) => Uint8Array }

describe('p2p/pnet', () => {
  it('produces the same keystream as the xsalsa20 package for any sequence of update sizes', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const ours = new XSalsaStream(nonce, key)
    const stock = stockXsalsa(nonce, key)
    for (let i = 0; i < 500; i++) {
      const data = randomBytes(i % 50 === 0 ? 100_000 + i : i % 131)
      assert.deepEqual(Buffer.from(ours.update(data)), Buffer.from(stock.update(data)), `update ${i} of ${data.byteLength} bytes`)
    }
  })

  it('enciphers in place as the receiving side does, and refuses use after final()', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const ours = new XSalsaStream(nonce, key)
    const stock = stockXsalsa(nonce, key)
    for (const size of [1, 63, 64, 65, 65_536, 7]) {
      const data = randomBytes(size)
      const expected = Buffer.from(stock.update(data))
      assert.deepEqual(Buffer.from(ours.update(data, data)), expected)
      assert.deepEqual(data, expected, 'the input buffer holds the result')
    }
    ours.final()
    assert.throws(() => ours.update(new Uint8Array(1)), /after final/)
  })

  describe('between real nodes', function () {
    this.timeout(20_000)
    const nodes: Libp2p[] = []
    const node = async (protector: () => ConnectionProtector): Promise<Libp2p> => {
      const n = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionProtector: protector, connectionEncrypters: [noise()], streamMuxers: [yamux()] })
      nodes.push(n)
      return n
    }
    afterEach(async () => { for (const n of nodes.splice(0)) await n.stop() })

    /** Sends `size` random bytes from a to b on a test protocol and returns what b received. */
    async function roundTrip (a: Libp2p, b: Libp2p, size: number): Promise<{ sent: string, got: string }> {
      let got = createHash('sha256')
      const done = new Promise<void>((resolve) => {
        void b.handle('/test/bytes', async (s: Stream) => {
          got = createHash('sha256')
          for await (const chunk of s) got.update(chunk.subarray())
          resolve()
        })
      })
      const s = await a.dialProtocol(b.getMultiaddrs(), '/test/bytes')
      const sent = createHash('sha256')
      for (let off = 0; off < size; off += 256 * 1024) {
        const part = randomBytes(Math.min(256 * 1024, size - off))
        sent.update(part)
        await sendWithBackpressure(s, part)
      }
      await s.close()
      await done
      return { sent: sent.digest('hex'), got: got.digest('hex') }
    }

    it('talks to stock @libp2p/pnet both ways with the same key', async () => {
      const key = newSwarmKey()
      const ours = await node(boundedPreSharedKey({ psk: key }))
      const stock = await node(preSharedKey({ psk: key }))
      for (const [a, b] of [[ours, stock], [stock, ours]] as const) {
        const r = await roundTrip(a, b, 2 * 1024 * 1024)
        assert.equal(r.got, r.sent)
      }
    })

    it('moves more than the ~50 MB at which stock pnet fails', async () => {
      const key = newSwarmKey()
      const r = await roundTrip(await node(boundedPreSharedKey({ psk: key })), await node(boundedPreSharedKey({ psk: key })), 96 * 1024 * 1024)
      assert.equal(r.got, r.sent)
    })

    it('refuses a peer with another key', async () => {
      const a = await node(boundedPreSharedKey({ psk: newSwarmKey() }))
      const b = await node(boundedPreSharedKey({ psk: newSwarmKey() }))
      await assert.rejects(a.dial(b.getMultiaddrs(), { signal: AbortSignal.timeout(8000) }))
    })
  })
})
