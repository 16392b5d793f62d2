import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import { Worker } from 'node:worker_threads'
import { frame, type RequestChannel, type RequestHandler } from '../../../src/p2p/index.js'
import { codeOf, dataNodes, type DataNode } from '../../fixtures/data-plane.js'
import { waitFor } from '../../fixtures/wait-for.js'

/** The largest request the holders here take (the blob protocol's limit). */
const MAX_REQUEST = 4096

/** A request asks for a body of n bytes (4 bytes, big-endian); the answer's header echoes it. */
const ask = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
const bodyOf = (n: number): Buffer => Buffer.alloc(n, n % 251)

/** Answers `ask(n)` with its own bytes as the header, then n bytes of n % 251. */
const echo: RequestHandler = async (req, ch) => {
  const n = Buffer.from(req).readUInt32BE(0)
  await ch.write(frame(req), ch.signal)
  if (n > 0) await ch.write(bodyOf(n), ch.signal)
}

/** Waits until the asker withdraws the request on `ch`, then fails with the reason (as a holder's wait does). */
const untilWithdrawn = async (ch: RequestChannel): Promise<never> => {
  await new Promise<void>(resolve => { ch.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
  throw ch.signal.reason
}

/** Request connections `holder` took from `asker`, by its debug lines. */
const connectionsFrom = (holder: DataNode, asker: DataNode): number =>
  holder.lines.filter(l => l.includes(`data connection from ${asker.id}`) && l.includes('(ollamad-data/2)')).length

const exchange = async (asker: DataNode, holder: DataNode, n: number, signal = new AbortController().signal, maxHeaderBytes = 64, stallMs = 5000): Promise<{ header: Uint8Array, body: Uint8Array }> => {
  let body = new Uint8Array(0)
  const header = await asker.plane.exchange(holder.id, frame(ask(n)), {
    signal,
    stallMs,
    maxHeaderBytes,
    body: (h) => { body = new Uint8Array(Buffer.from(h).readUInt32BE(0)); return body }
  })
  return { header, body }
}

describe('p2p/data: requests on a data connection', () => {
  const made = dataNodes()
  afterEach(made.stop)

  it('answers requests on one connection, each a header and then its body, one after another', async () => {
    const [a, b] = await made.pair()
    a.plane.handle(echo, MAX_REQUEST)
    assert.ok(b.plane.direct(a.id), 'a told its data port')
    for (const n of [0, 100_000, 3 * 1024 * 1024, 17]) {
      const got = await exchange(b, a, n)
      assert.deepEqual([...got.header], [...ask(n)], `header of ${n}`)
      assert.ok(Buffer.from(got.body).equals(bodyOf(n)), `${n} bytes`)
    }
    assert.equal(connectionsFrom(a, b), 1, 'one connection for four requests')
  })

  it('reads a header that comes in pieces, in separate TLS records', async () => {
    const [a, b] = await made.pair()
    a.plane.handle(async (req, ch) => {
      const n = Buffer.from(req).readUInt32BE(0)
      // A long header (the request, then padding), its first bytes alone in a record of their own.
      const head = frame(Buffer.concat([Buffer.from(req), Buffer.alloc(20_000, 7)]))
      await ch.write(head.subarray(0, 3), ch.signal)
      await new Promise(resolve => setTimeout(resolve, 30))
      await ch.write(head.subarray(3), ch.signal)
      await ch.write(bodyOf(n), ch.signal)
    }, MAX_REQUEST)
    for (const n of [0, 50_000]) {
      const got = await exchange(b, a, n, AbortSignal.timeout(5000), 64 * 1024)
      assert.equal(got.header.byteLength, 20_004)
      assert.ok(Buffer.from(got.body).equals(bodyOf(n)), `${n} bytes`)
    }
  })

  it('gives up on a data port that takes no handshake, as unreachable', async () => {
    const [a, b] = await made.pair()
    a.plane.handle(echo, MAX_REQUEST)
    const silent = net.createServer(() => {})
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    try {
      a.port = (silent.address() as AddressInfo).port
      const t = Date.now()
      assert.equal(await codeOf(exchange(b, a, 10, new AbortController().signal, 64, 300)), 'DATA_UNREACHABLE')
      assert.ok(Date.now() - t < 3000, `gave up after ${Date.now() - t} ms`)
    } finally {
      silent.close()
    }
  })

  it('sends no request to a peer that told no data port, or that no handler serves', async () => {
    const [a, b] = await made.pair()
    a.tellsPort = false
    assert.equal(b.plane.direct(a.id), false)
    assert.equal(await codeOf(exchange(b, a, 10)), 'DATA_UNREACHABLE')
    a.tellsPort = true
    assert.notEqual(await codeOf(exchange(b, a, 10)), 'resolved', 'nothing registered to answer')
    await waitFor(() => a.lines.some(l => l.includes('nothing serves requests here')), 5000, 'the refusal logged')
  })

  it('serves no request of a peer that is not a member now', async () => {
    const [a, b] = await made.pair()
    let calls = 0
    a.plane.handle(async (req, ch) => { calls++; await echo(req, ch) }, MAX_REQUEST)
    await exchange(b, a, 10)
    a.members.delete(b.id)
    assert.notEqual(await codeOf(exchange(b, a, 10)), 'resolved')
    assert.equal(calls, 1)
  })

  it('ends a connection whose request is over the size limit, before any handler sees it', async () => {
    const [a, b] = await made.pair()
    let calls = 0
    a.plane.handle(async () => { calls++ }, MAX_REQUEST)
    const socket = tls.connect({ host: '127.0.0.1', port: a.plane.port(), rejectUnauthorized: false, ALPNProtocols: ['ollamad-data/2'], cert: b.identity.cert, key: b.identity.key })
    socket.on('error', () => {})
    let got = 0
    socket.on('data', (d: Buffer) => { got += d.byteLength })
    socket.on('secureConnect', () => { socket.write(frame(randomBytes(5000))) })
    await new Promise(resolve => socket.once('close', resolve))
    assert.equal(got, 0)
    assert.equal(calls, 0)
    assert.ok(a.lines.some(l => l.includes('over the limit')), a.lines.join('\n'))
  })

  it('tells the holder when the asker withdraws a request it waits on', async () => {
    const [a, b] = await made.pair()
    let withdrawn = false
    a.plane.handle(async (_req, ch) => { await untilWithdrawn(ch).finally(() => { withdrawn = true }) }, MAX_REQUEST)
    const ac = new AbortController()
    const asking = codeOf(exchange(b, a, 10, ac.signal))
    await waitFor(() => a.lines.some(l => l.includes('(ollamad-data/2)')), 5000, 'the connection')
    ac.abort()
    assert.equal(await asking, 'ABORTED')
    await waitFor(() => withdrawn, 5000, 'the holder saw the request withdrawn')
  })

  it('puts a fresh connection in the place of one a withdrawn request ended, before the next request', async () => {
    const [a, b] = await made.pair()
    let first = true
    a.plane.handle(async (req, ch) => {
      if (!first) { await echo(req, ch); return }
      first = false
      await untilWithdrawn(ch)
    }, MAX_REQUEST)
    const connections = (): number => connectionsFrom(a, b)
    const ac = new AbortController()
    const asking = codeOf(exchange(b, a, 10, ac.signal))
    await waitFor(() => connections() === 1, 5000, 'the connection')
    ac.abort()
    assert.equal(await asking, 'ABORTED')
    await waitFor(() => connections() === 2, 5000, 'a second connection with no request waiting for it')
    const got = await exchange(b, a, 1000)
    assert.ok(Buffer.from(got.body).equals(bodyOf(1000)))
    assert.equal(connections(), 2, 'the next request took the fresh connection')
  })

  it('dials no connection for the pool once the dialer is closed', async () => {
    const [a, b] = await made.pair()
    a.plane.handle(async (_req, ch) => { await untilWithdrawn(ch) }, MAX_REQUEST)
    const connections = (): number => connectionsFrom(a, b)
    const ac = new AbortController()
    const asking = codeOf(exchange(b, a, 10, ac.signal))
    await waitFor(() => connections() === 1, 5000, 'the connection')
    ac.abort()
    await b.plane.stop()
    assert.equal(await asking, 'ABORTED')
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal(connections(), 1, 'a stopped node opens no connection')
  })

  it('takes an answer that lands before node:tls reports the request written', async () => {
    const asker = await made.node()
    // The holder runs on its own thread, so it answers while this one is blocked.
    const worker = new Worker(new URL('../../fixtures/data-holder-worker.js', import.meta.url), { workerData: { member: asker.id } })
    try {
      const holder = await new Promise<{ id: string, port: number }>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject) })
      asker.members.add(holder.id)
      made.remote(holder.id, holder.port)
      const ask10 = async (): Promise<Uint8Array> => await asker.plane.exchange(holder.id, frame(ask(10)), { signal: AbortSignal.timeout(5000), stallMs: 5000, maxHeaderBytes: 64, body: () => new Uint8Array(0) })
      assert.deepEqual([...await ask10()], [...ask(10)], 'a first answer, on a connection now pooled')
      // In a timer's turn the request goes out at once on the pooled connection, and node:tls
      // calls back in this turn's check phase, after the poll phase. Blocking here lets the
      // answer come first, so that poll phase reads it before the write has been reported done.
      const header = await new Promise<Uint8Array>((resolve, reject) => {
        setTimeout(() => {
          ask10().then(resolve, reject)
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
        }, 0)
      })
      assert.deepEqual([...header], [...ask(10)])
      assert.ok(!asker.lines.some(l => l.includes('nobody asked for')), asker.lines.join('\n'))
    } finally {
      worker.postMessage('stop')
      await new Promise(resolve => worker.once('exit', resolve))
    }
  })
})
