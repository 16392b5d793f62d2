import assert from 'node:assert/strict'
import { startRamp } from '../../../../src/transfer/download/ramp.js'
import { createFakeClock } from '../../../fixtures/fake-clock.js'

const MiB = 1024 * 1024

/** A link where each request gets `perRequest` bytes/s, and all of them together at most `link`. */
function simulate (perRequest: number, link: number, max = 16): { counts: number[], grown: number[], settledAt: number | undefined } {
  const clock = createFakeClock()
  let bytes = 0
  const grown: number[] = []
  const ramp = startRamp(clock, { initial: 4, max, intervalMs: 1000, fastPerRequest: 32 * MiB }, () => bytes, n => { grown.push(n) })
  const counts: number[] = []
  let settledAt: number | undefined = ramp.settled() ? 0 : undefined
  for (let s = 0; s < 8; s++) {
    bytes += Math.min(link, perRequest * ramp.count())
    clock.advance(1000)
    counts.push(ramp.count())
    if (ramp.settled()) settledAt ??= s + 1
    else assert.equal(clock.pending(), 1, 'an unsettled ramp judges again')
  }
  ramp.stop()
  assert.equal(clock.pending(), 0, 'no timer left behind')
  return { counts, grown, settledAt }
}

describe('transfer/download/ramp', () => {
  it('keeps a few requests when each one is fast (a registry nearby)', () => {
    const { counts, settledAt } = simulate(100 * MiB, 400 * MiB)
    assert.deepEqual(counts, [4, 4, 4, 4, 4, 4, 4, 4])
    assert.equal(settledAt, 1, 'settled at the first judgement')
  })

  it('doubles while each request is slow and doubling pays, up to the limit', () => {
    const { counts, grown, settledAt } = simulate(2 * MiB, 1000 * MiB)
    assert.deepEqual(counts, [8, 16, 16, 16, 16, 16, 16, 16])
    assert.deepEqual(grown, [4, 8])
    assert.equal(settledAt, 2, 'settled at the limit')
  })

  it('stops doubling once a doubling did not pay (the link is full)', () => {
    // 4 requests at 2 MiB/s fill 8 of a 10 MiB/s link, 8 fill it, and 16 add nothing: no 32.
    const { counts, grown, settledAt } = simulate(2 * MiB, 10 * MiB, 64)
    assert.deepEqual(counts, [8, 16, 16, 16, 16, 16, 16, 16])
    assert.deepEqual(grown, [4, 8])
    assert.equal(settledAt, 3, 'settled when the doubling did not pay')
  })

  it('never starts more than the limit', () => {
    assert.deepEqual(simulate(1 * MiB, 1000 * MiB, 2), { counts: [2, 2, 2, 2, 2, 2, 2, 2], grown: [], settledAt: 0 })
    assert.deepEqual(simulate(1 * MiB, 1000 * MiB, 6).counts, [6, 6, 6, 6, 6, 6, 6, 6])
  })
})
