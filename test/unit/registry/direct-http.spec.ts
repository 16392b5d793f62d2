import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { isOllamadError, type ErrorCode } from '../../../src/errors.js'
import { directRequest, type DirectResponse } from '../../../src/registry/direct-http.js'
import { collectingTarget } from '../../fixtures/body-target.js'
import { systemClock } from '../../../src/util/clock.js'
import { startHttpServer, sendBlob, type TestServer } from '../../fixtures/http-server.js'

const failsWith = (code: ErrorCode, message?: RegExp) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  if (message !== undefined) assert.match(e.message, message)
  return true
}

/** A TCP server that answers every connection by `script` (raw bytes, for heads node:http cannot send). */
async function rawServer (script: (socket: net.Socket, request: string) => void): Promise<{ url: string, close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('error', () => {})
    let got = ''
    socket.on('data', d => {
      got += d.toString('latin1')
      if (got.includes('\r\n\r\n')) script(socket, got)
    })
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/blob`,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

/** Reads into buffers of `room` bytes; with `slow`, each full buffer waits a turn, as a disk write does. */
async function readAllInto (res: DirectResponse, room: number, slow = false, want = Infinity): Promise<Buffer> {
  const target = collectingTarget(room, { want, onFull: slow ? async () => { await new Promise(resolve => setImmediate(resolve)) } : undefined })
  await res.readInto(target, systemClock, 5000)
  return target.bytes()
}

const readStream = async (res: DirectResponse): Promise<Buffer> => {
  const parts: Buffer[] = []
  for await (const b of res) parts.push(b as Buffer)
  return Buffer.concat(parts)
}

describe('registry/direct-http directRequest', () => {
  const blob = randomBytes(3 * 1024 * 1024 + 17)
  let server: TestServer
  const closers: Array<() => Promise<void>> = []
  before(async () => { server = await startHttpServer((req, res) => { sendBlob(req, res, blob) }) })
  after(async () => { await server.close() })
  afterEach(async () => { await Promise.all(closers.splice(0).map(async c => { await c() })) })
  const raw = async (script: (socket: net.Socket, request: string) => void): Promise<string> => {
    const s = await rawServer(script)
    closers.push(s.close)
    return s.url
  }

  it('reads a body straight into the caller\'s buffers, whatever their size and however slow', async () => {
    for (const [room, slow] of [[1 << 20, false], [4096, true], [300_001, true]] as const) {
      const res = await directRequest(new URL(`${server.url}/b`))
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['content-length'], String(blob.byteLength))
      assert.ok((await readAllInto(res, room, slow)).equals(blob), `room ${room}`)
    }
  })

  it('sends the caller\'s headers: a Range comes back as a 206 of those bytes', async () => {
    const res = await directRequest(new URL(`${server.url}/b`), { headers: { Range: 'bytes=100-70099' } })
    assert.equal(res.statusCode, 206)
    assert.ok((await readAllInto(res, 8192)).equals(blob.subarray(100, 70100)))
    assert.equal(server.requests.at(-1)?.headers.range, 'bytes=100-70099')
  })

  it('serves the streamed path too, for error bodies and the like', async () => {
    const res = await directRequest(new URL(`${server.url}/b`))
    assert.ok((await readStream(res)).equals(blob))
  })

  it('stops, as a success, when the caller has all it wants', async () => {
    const res = await directRequest(new URL(`${server.url}/b`))
    assert.ok((await readAllInto(res, 65536, false, 100_000)).equals(blob.subarray(0, 100_000)))
  })

  it('reads chunked bodies, bodies that end with the connection, interim heads and empty answers', async () => {
    const chunked = await raw(s => { s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n') })
    assert.equal((await readAllInto(await directRequest(new URL(chunked)), 4)).toString(), 'hello world')
    assert.equal((await readStream(await directRequest(new URL(chunked)))).toString(), 'hello world')
    const untilClose = await raw(s => { s.write('HTTP/1.0 200 OK\r\n\r\nsome'); setTimeout(() => s.end(' bytes'), 20) })
    assert.equal((await readAllInto(await directRequest(new URL(untilClose)), 3, true)).toString(), 'some bytes')
    const interim = await raw(s => { s.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') })
    const res = await directRequest(new URL(interim))
    assert.equal(res.statusCode, 200)
    assert.equal((await readAllInto(res, 16)).toString(), 'ok')
    const empty = await directRequest(new URL(`${server.url}/b`), { method: 'HEAD' })
    assert.equal(empty.statusCode, 200)
    assert.equal((await readAllInto(empty, 16)).byteLength, 0)
  })

  it('fails with REGISTRY_ERROR on a body cut short, a malformed head and a head without end', async () => {
    const cut = await raw(s => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this') })
    await assert.rejects(readAllInto(await directRequest(new URL(cut)), 64), failsWith('REGISTRY_ERROR', /closed the connection/))
    const garbage = await raw(s => { s.end('SSH-2.0-OpenSSH\r\n\r\n') })
    await assert.rejects(directRequest(new URL(garbage)), failsWith('REGISTRY_ERROR', /malformed/))
    const huge = await raw(s => { s.write('HTTP/1.1 200 OK\r\n'); s.write(`X: ${'a'.repeat(70_000)}`) })
    await assert.rejects(directRequest(new URL(huge)), failsWith('REGISTRY_ERROR', /head over/))
    const silent = await raw(s => { s.end() })
    await assert.rejects(directRequest(new URL(silent)), failsWith('REGISTRY_ERROR', /before a response/))
  })

  it('fails with REGISTRY_UNREACHABLE, STALLED and ABORTED where node:http would', async () => {
    const gone = await raw(() => {})
    const port = new URL(gone).port
    await closers.pop()?.()
    await assert.rejects(directRequest(new URL(`http://127.0.0.1:${port}/x`)), failsWith('REGISTRY_UNREACHABLE'))
    const mute = await raw(() => {})
    await assert.rejects(directRequest(new URL(mute), { timeoutMs: 100 }), failsWith('STALLED'))
    const ac = new AbortController()
    const waiting = directRequest(new URL(mute), { signal: ac.signal })
    setTimeout(() => { ac.abort() }, 20)
    await assert.rejects(waiting, failsWith('ABORTED'))
  })

  it('ends a read at once with the reason when the response is destroyed under it', async () => {
    const res = await directRequest(new URL(`${server.url}/b`))
    const target = collectingTarget(4096, { onFull: () => { res.destroy(new Error('gone')); return undefined } })
    const t = Date.now()
    await assert.rejects(res.readInto(target, systemClock, 5000), /gone/)
    assert.ok(Date.now() - t < 2000, 'not by the stall timer')
  })

  it('refuses header values that would add lines of their own, and https', async () => {
    await assert.rejects(directRequest(new URL(`${server.url}/b`), { headers: { Authorization: 'Bearer x\r\nX-Evil: 1' } }), failsWith('REGISTRY_ERROR', /invalid request header/))
    await assert.rejects(directRequest(new URL('https://127.0.0.1:1/b')), failsWith('REGISTRY_ERROR', /plain http/))
  })
})
