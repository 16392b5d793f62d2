import assert from 'node:assert/strict'
import { throttle } from '../../../src/util/throttle.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('util/throttle', () => {
  it('runs the first call at once', () => {
    const clock = createFakeClock()
    let calls = 0
    const t = throttle(clock, 100, () => { calls++ })
    t()
    assert.equal(calls, 1)
    assert.equal(clock.pending(), 0)
  })

  it('folds calls within the interval into one trailing call at the end of the interval', () => {
    const clock = createFakeClock()
    const at: number[] = []
    const start = clock.now()
    const t = throttle(clock, 100, () => { at.push(clock.now() - start) })
    t()
    clock.advance(10)
    t()
    clock.advance(30)
    t()
    t()
    assert.deepEqual(at, [0])
    clock.advance(59)
    assert.deepEqual(at, [0])
    clock.advance(1)
    assert.deepEqual(at, [0, 100])
    assert.equal(clock.pending(), 0)
  })

  it('runs at once again when the interval has passed since the last run', () => {
    const clock = createFakeClock()
    let calls = 0
    const t = throttle(clock, 100, () => { calls++ })
    t()
    clock.advance(100)
    t()
    assert.equal(calls, 2)
    assert.equal(clock.pending(), 0)
  })

  it('flush runs a pending call now and restarts the interval', () => {
    const clock = createFakeClock()
    let calls = 0
    const t = throttle(clock, 100, () => { calls++ })
    t()
    clock.advance(20)
    t()
    t.flush()
    assert.equal(calls, 2)
    assert.equal(clock.pending(), 0)
    t()
    assert.equal(calls, 2, 'the interval restarted at the flush')
    assert.equal(clock.nextIn(), 100)
  })

  it('flush does nothing when no call is pending', () => {
    const clock = createFakeClock()
    let calls = 0
    const t = throttle(clock, 100, () => { calls++ })
    t.flush()
    t()
    t.flush()
    assert.equal(calls, 1)
  })

  it('cancel drops the pending call', () => {
    const clock = createFakeClock()
    let calls = 0
    const t = throttle(clock, 100, () => { calls++ })
    t()
    t()
    t.cancel()
    clock.advance(1000)
    assert.equal(calls, 1)
    assert.equal(clock.pending(), 0)
  })
})
