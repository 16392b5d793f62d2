import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { writeWithBackpressure } from '../../../src/p2p/data/write.js'

/** A socket that keeps each write's callback, so the test says when the bytes were taken. */
class HeldSocket extends EventEmitter {
  destroyed = false
  callbacks: Array<(e?: Error | null) => void> = []
  write (_data: Uint8Array, cb: (e?: Error | null) => void): boolean {
    this.callbacks.push(cb)
    return true
  }
}

const settled = async (p: Promise<unknown>): Promise<string> => await Promise.race([
  p.then(() => 'resolved', (e: Error) => `rejected: ${e.message}`),
  new Promise<string>(resolve => setImmediate(() => { resolve('pending') }))
])

describe('data-plane writes', () => {
  it('resolve only once the socket took the bytes, even when write() returned true', async () => {
    const s = new HeldSocket()
    const w = writeWithBackpressure(s as unknown as Socket, new Uint8Array(4), new AbortController().signal)
    assert.equal(await settled(w), 'pending', 'the bytes may still be in the queue: the buffer is not free yet')
    s.callbacks[0]?.()
    assert.equal(await settled(w), 'resolved')
  })

  it('fail on a write error, on close and on abort, and refuse a destroyed socket', async () => {
    const s = new HeldSocket()
    const failed = writeWithBackpressure(s as unknown as Socket, new Uint8Array(4), new AbortController().signal)
    s.callbacks[0]?.(new Error('EPIPE'))
    assert.match(await settled(failed), /rejected: .*EPIPE/)
    const closed = writeWithBackpressure(s as unknown as Socket, new Uint8Array(4), new AbortController().signal)
    s.emit('close')
    assert.match(await settled(closed), /rejected: .*closed while writing/)
    const ac = new AbortController()
    const aborted = writeWithBackpressure(s as unknown as Socket, new Uint8Array(4), ac.signal)
    ac.abort(new Error('gave up'))
    assert.equal(await settled(aborted), 'rejected: gave up')
    assert.equal(s.listenerCount('close'), 0, 'no listener left behind')
    s.destroyed = true
    await assert.rejects(writeWithBackpressure(s as unknown as Socket, new Uint8Array(4), new AbortController().signal), /closed/)
  })
})
