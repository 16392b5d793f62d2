import assert from 'node:assert/strict'
import { cachedFor } from '../../../src/util/cached.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('util/cached', () => {
  it('reads at most once per period on the clock, shares a read in progress, and reads again when invalidated', async () => {
    const clock = createFakeClock()
    let reads = 0
    const value = cachedFor(clock, 1_000, async () => ++reads)
    assert.deepEqual(await Promise.all([value.get(), value.get()]), [1, 1])
    clock.advance(1_000)
    assert.equal(await value.get(), 1, 'still fresh at the period')
    clock.advance(1)
    assert.equal(await value.get(), 2)
    value.invalidate()
    assert.equal(await value.get(), 3)
  })
})
