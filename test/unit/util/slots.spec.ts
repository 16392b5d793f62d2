import assert from 'node:assert/strict'
import { isOllamadError } from '../../../src/errors.js'
import { createSlots } from '../../../src/util/slots.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('util/slots', () => {
  it('lets `size` holders in at once and the rest in arrival order as slots free', async () => {
    const slots = createSlots(2, createFakeClock())
    const a = await slots.acquire(1000)
    const b = await slots.acquire(1000)
    const order: string[] = []
    const c = slots.acquire(1000).then(r => { order.push('c'); return r })
    const d = slots.acquire(1000).then(r => { order.push('d'); return r })
    assert.deepEqual(slots.stats(), { held: 2, waiting: 2 })
    b?.()
    b?.() // a second release of the same slot changes nothing
    const rc = await c
    assert.deepEqual(order, ['c'])
    assert.deepEqual(slots.stats(), { held: 2, waiting: 1 })
    a?.()
    const rd = await d
    assert.deepEqual(order, ['c', 'd'])
    rc?.(); rd?.()
    assert.deepEqual(slots.stats(), { held: 0, waiting: 0 })
  })

  it('gives up after the wait, and a waiter that aborts leaves the queue', async () => {
    const clock = createFakeClock()
    const slots = createSlots(1, clock)
    const held = await slots.acquire(1000)
    const late = slots.acquire(1000)
    const ac = new AbortController()
    const aborted = slots.acquire(60_000, ac.signal)
    ac.abort()
    await assert.rejects(aborted, (e: unknown) => isOllamadError(e, 'ABORTED'))
    clock.advance(1000)
    assert.equal(await late, undefined, 'no slot within the wait')
    assert.deepEqual(slots.stats(), { held: 1, waiting: 0 })
    held?.()
    assert.deepEqual(slots.stats(), { held: 0, waiting: 0 })
    assert.throws(() => createSlots(0, clock), RangeError)
  })
})
