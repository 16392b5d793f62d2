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

  it('gives a freed slot to the waiter of lowest rank, asked when the slot frees, and to the earliest among equals', async () => {
    const slots = createSlots(1, createFakeClock())
    let release = await slots.acquire(1000)
    const ranks: Record<string, () => number> = { a: () => 5, b: () => 1, c: () => 1, d: () => 0 }
    const order: string[] = []
    const granted = new Map<string, (() => void) | undefined>()
    for (const id of ['a', 'b', 'c', 'd', 'plain']) {
      void slots.acquire(1000, undefined, id === 'plain' ? undefined : () => (ranks[id] as () => number)()).then(r => { order.push(id); granted.set(id, r) })
    }
    ranks.d = () => 9 // what the rank measures changed while it waited
    ranks.a = () => { throw new Error('cannot tell') } // counts as 0, and the release still works
    for (const id of ['a', 'plain', 'b', 'c', 'd']) {
      release?.()
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(order.at(-1), id, `after ${order.slice(0, -1).join(', ')}`)
      release = granted.get(id)
    }
    release?.()
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
