import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import http, { type IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'
import { isOllamadError } from '../../../src/errors.js'
import { readBodyInto, readPiecesInto, type BodyTarget } from '../../../src/registry/body.js'
import { startHttpServer } from '../../fixtures/http-server.js'
import { collectingTarget, type CollectingTarget } from '../../fixtures/body-target.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** A collecting target whose full buffers wait for the test to release them while `hold` is set. */
type Held = CollectingTarget & { holds: Array<() => void>, hold: boolean }
function collector (room: number, want?: number): Held {
  const holds: Array<() => void> = []
  const onFull = (): Promise<void> | undefined => t.hold ? new Promise<void>(resolve => { holds.push(resolve) }) : undefined
  const t: Held = Object.assign(collectingTarget(room, { want, onFull }), { holds, hold: false })
  return t
}

describe('registry/body readPiecesInto', () => {
  it('copies pieces of any size into the target\'s buffers', async () => {
    const res = new PassThrough()
    const target = collector(7)
    const done = readPiecesInto(res, createFakeClock(), 1000, target)
    const data = Buffer.from('the quick brown fox jumps over the lazy dog')
    res.write(data.subarray(0, 3))
    res.write(data.subarray(3, 20))
    res.end(data.subarray(20))
    await done
    assert.deepEqual(target.bytes(), data)
  })

  it('pauses the body while the target\'s promise runs, holding the rest of a piece', async () => {
    const res = new PassThrough()
    const target = collector(4)
    target.hold = true
    const done = readPiecesInto(res, createFakeClock(), 1000, target)
    res.end(Buffer.from('abcdefghij'))
    await tick()
    assert.equal(target.holds.length, 1, 'held after the first full buffer')
    assert.equal(res.isPaused(), true)
    target.holds.shift()?.()
    await tick()
    assert.equal(target.holds.length, 1, 'the held rest of the piece fills the next buffer')
    target.holds.shift()?.()
    await done
    assert.equal(target.bytes().toString(), 'abcdefghij')
  })

  it('fails with STALLED when no byte comes in time, not counting time paused for the target', async () => {
    const clock = createFakeClock()
    const res = new PassThrough()
    const target = collector(2)
    target.hold = true
    const done = readPiecesInto(res, clock, 1000, target)
    res.write(Buffer.from('ab'))
    await tick()
    clock.advance(5000)
    assert.equal(res.destroyed, false, 'paused for the target: no stall')
    target.holds.shift()?.()
    await tick()
    clock.advance(999)
    assert.equal(res.destroyed, false)
    clock.advance(1)
    await assert.rejects(done, (e: unknown) => isOllamadError(e, 'STALLED'))
    assert.equal(res.destroyed, true)
    assert.equal(clock.pending(), 0, 'no timer left behind')
  })

  it('ends as a success once the target wants no more, dropping the rest', async () => {
    const res = new PassThrough()
    const target = collector(4, 6)
    const done = readPiecesInto(res, createFakeClock(), 1000, target)
    res.write(Buffer.from('abcdefghij'))
    await done
    assert.equal(target.bytes().toString(), 'abcdef')
    assert.equal(res.destroyed, true)
  })

  it('waits for the target\'s promise before failing, so its buffer is free when the call returns', async () => {
    const res = new PassThrough()
    const target = collector(2)
    target.hold = true
    let settled = false
    const done = readPiecesInto(res, createFakeClock(), 1000, target).finally(() => { settled = true })
    res.write(Buffer.from('ab'))
    await tick()
    res.destroy(new Error('reset'))
    await tick()
    assert.equal(settled, false, 'still writing')
    target.holds.shift()?.()
    await assert.rejects(done, /reset/)
  })

  it('reads a node:http response (the https path) into slow buffers exactly', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3)
    const server = await startHttpServer((_req, res) => { res.writeHead(200, { 'Content-Length': data.byteLength }).end(data) })
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => { http.get(`${server.url}/b`, resolve).on('error', reject) })
      const target = collectingTarget(100_000, { onFull: async () => { await new Promise(resolve => setImmediate(resolve)) } })
      await readBodyInto(res, createFakeClock(), 1000, target)
      assert.ok(target.bytes().equals(data))
    } finally {
      await server.close()
    }
  })

  it('fails when the target throws, and when the body closes early', async () => {
    const res = new PassThrough()
    const bad: BodyTarget = { space: () => Buffer.alloc(4), filled: () => { throw new Error('disk full') } }
    const done = readPiecesInto(res, createFakeClock(), 1000, bad)
    res.write(Buffer.from('a'))
    await assert.rejects(done, /disk full/)
    const cut = new PassThrough()
    const early = readPiecesInto(cut, createFakeClock(), 1000, collector(4))
    cut.write(Buffer.from('a'))
    cut.destroy()
    await assert.rejects(early, (e: unknown) => isOllamadError(e, 'REGISTRY_ERROR'))
  })
})
