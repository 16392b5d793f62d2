import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import tls from 'node:tls'
import { codeOf, dataNodes, type DataNode } from '../../fixtures/data-plane.js'

describe('p2p/data: the data plane', () => {
  const made = dataNodes()
  const { node, pair } = made
  afterEach(made.stop)

  /** `holder` offers `body` to `asker`, which fetches it; resolves with what the asker read. */
  const transfer = async (holder: DataNode, asker: DataNode, body: Uint8Array, o: { onBytes?: (n: number) => number, stallMs?: number } = {}): Promise<Uint8Array> => {
    const ac = new AbortController()
    const offer = holder.plane.offer(asker.id, 5000, ac.signal)
    const sent = offer.connection.then(async conn => { await conn.write(body, ac.signal); conn.release() })
    const into = new Uint8Array(body.byteLength)
    await asker.plane.fetch(holder.id, offer.port, offer.ticket, into, { signal: ac.signal, stallMs: o.stallMs ?? 5000, onBytes: o.onBytes })
    await sent
    return into
  }

  it('moves bytes between members, straight into the asker\'s buffer, and reuses the connection', async () => {
    const [a, b] = await pair()
    for (const size of [1, 100_000, 5 * 1024 * 1024]) {
      const body = randomBytes(size)
      assert.deepEqual(Buffer.from(await transfer(a, b, body)), body, `${size} bytes`)
    }
    assert.equal(a.lines.filter(l => l.includes(`data connection from ${b.id}`)).length, 1, 'one connection for three bodies')
  })

  it('paces reads as the caller asks and still gets every byte', async () => {
    const [a, b] = await pair()
    const body = randomBytes(2 * 1024 * 1024)
    let pauses = 0
    const got = await transfer(a, b, body, { onBytes: () => { pauses++; return pauses % 8 === 0 ? 20 : 0 } })
    assert.deepEqual(Buffer.from(got), body)
    assert.ok(pauses >= 8, `paced ${pauses} reads`)
  })

  it('refuses a peer that is not a member now, and one that a member turns into a stranger', async () => {
    const [a, b] = await pair()
    a.members.delete(b.id)
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 300, ac.signal)
    const redeemed = codeOf(offer.connection)
    assert.notEqual(await codeOf(b.plane.fetch(a.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 5000 })), 'resolved')
    assert.equal(await redeemed, 'STALLED', 'the ticket was never redeemed')
    assert.ok(a.lines.some(l => l.includes('is not a member now')), a.lines.join('\n'))
  })

  it('closes a member\'s connections when it leaves', async () => {
    const [a, b] = await pair()
    await transfer(a, b, randomBytes(1000))
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 5000, ac.signal)
    const fetching = codeOf(b.plane.fetch(a.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 5000 }))
    await offer.connection
    a.members.delete(b.id)
    a.plane.dropPeer(b.id)
    assert.equal(await fetching, 'PEER_UNAVAILABLE')
  })

  it('gives an address that no member uses no handshake, and says the data port is unreachable', async () => {
    const [a, b] = await pair()
    a.addressOk = false
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 300, ac.signal)
    offer.connection.catch(() => {})
    assert.equal(await codeOf(b.plane.fetch(a.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 5000 })), 'DATA_UNREACHABLE')
  })

  it('refuses a holder whose certificate proves another peer', async () => {
    const [a, b] = await pair()
    const c = await node()
    b.members.add(c.id)
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 300, ac.signal)
    offer.connection.catch(() => {})
    // b believes it dials c, but a answers at that port.
    assert.equal(await codeOf(b.plane.fetch(c.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 5000 })), 'DATA_UNREACHABLE')
  })

  it('serves a ticket only to the peer it was issued to', async () => {
    const [a, b] = await pair()
    const c = await node()
    a.members.add(c.id)
    c.members.add(a.id)
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 300, ac.signal)
    const redeemed = codeOf(offer.connection)
    assert.notEqual(await codeOf(c.plane.fetch(a.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 5000 })), 'resolved')
    assert.equal(await redeemed, 'STALLED')
  })

  it('drops a TLS client without a libp2p certificate before it can present anything', async () => {
    const [a] = await pair()
    const socket = tls.connect({ host: '127.0.0.1', port: a.plane.port(), rejectUnauthorized: false, ALPNProtocols: ['ollamad-data/1'] })
    socket.on('error', () => {})
    let got = 0
    socket.on('data', (d: Buffer) => { got += d.byteLength })
    socket.write(randomBytes(16))
    await new Promise(resolve => socket.once('close', resolve))
    assert.equal(got, 0)
  })

  it('times out a holder that never sends', async () => {
    const [a, b] = await pair()
    const ac = new AbortController()
    const offer = a.plane.offer(b.id, 5000, ac.signal)
    assert.equal(await codeOf(b.plane.fetch(a.id, offer.port, offer.ticket, new Uint8Array(10), { signal: ac.signal, stallMs: 200 })), 'STALLED')
    await offer.connection
  })
})
