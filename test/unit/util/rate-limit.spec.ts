import assert from 'node:assert/strict'
import { createRateLimiter, parseSize } from '../../../src/util/rate-limit.js'
import { createFakeClock, type FakeClock } from '../../fixtures/fake-clock.js'

const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

/** Settles `p` by moving the fake clock from timer to timer; returns the fake time it took. */
async function drive (clock: FakeClock, p: Promise<unknown>): Promise<number> {
  const start = clock.now()
  let settled = false
  void p.then(() => { settled = true }, () => { settled = true })
  for (let i = 0; i < 1000; i++) {
    await tick()
    if (settled) return clock.now() - start
    const next = clock.nextIn()
    if (next === undefined) throw new Error('the promise waits on nothing the clock can move')
    clock.advance(next)
  }
  throw new Error('did not settle')
}

describe('rate limiter', () => {
  it('never waits without a limit (undefined, zero or not finite)', async () => {
    for (const rate of [undefined, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const clock = createFakeClock()
      const limiter = createRateLimiter(clock, rate)
      await limiter.take(1e12)
      assert.equal(clock.pending(), 0, `rate ${String(rate)}`)
    }
  })

  it('lets a burst of 50 ms worth of bytes pass without waiting', async () => {
    const clock = createFakeClock()
    const limiter = createRateLimiter(clock, 1000)
    await limiter.take(50)
    assert.equal(clock.pending(), 0)
  })

  it('holds a steady stream of takes to the configured rate', async () => {
    const clock = createFakeClock()
    const limiter = createRateLimiter(clock, 1000)
    let elapsed = 0
    for (let i = 0; i < 10; i++) elapsed += await drive(clock, limiter.take(100))
    // 1000 bytes at 1000 B/s, less the burst allowance.
    assert.ok(elapsed >= 850 && elapsed <= 1000, `took ${elapsed} ms`)
  })

  it('shares one budget among concurrent callers', async () => {
    const clock = createFakeClock()
    const limiter = createRateLimiter(clock, 1000)
    const order: string[] = []
    const a = limiter.take(500).then(() => { order.push('a') })
    const b = limiter.take(500).then(() => { order.push('b') })
    const elapsed = await drive(clock, Promise.all([a, b]))
    assert.deepEqual(order, ['a', 'b'])
    assert.ok(elapsed >= 850 && elapsed <= 1000, `took ${elapsed} ms`)
  })

  it('does not bank unused time beyond the burst after being idle', async () => {
    const clock = createFakeClock()
    const limiter = createRateLimiter(clock, 1000)
    await drive(clock, limiter.take(1000))
    clock.advance(60_000)
    const elapsed = await drive(clock, limiter.take(1000))
    assert.ok(elapsed >= 850 && elapsed <= 1000, `took ${elapsed} ms`)
  })

  it('stops waiting when the signal fires, with the signal\'s reason', async () => {
    const clock = createFakeClock()
    const limiter = createRateLimiter(clock, 1000)
    await limiter.take(50)
    const ac = new AbortController()
    const p = limiter.take(10_000, ac.signal)
    assert.equal(clock.pending(), 1)
    ac.abort(new Error('stop'))
    await assert.rejects(p, /stop/)
    assert.equal(clock.pending(), 0)
  })
})

describe('parseSize', () => {
  it('reads decimal and binary units and a /s suffix', () => {
    assert.equal(parseSize('500M'), 500e6)
    assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3)
    assert.equal(parseSize('100mb/s'), 100e6)
    assert.equal(parseSize('42'), 42)
  })

  it('refuses what it cannot read', () => {
    for (const s of ['', 'fast', '10 parsecs', '-1M']) assert.throws(() => parseSize(s), /invalid size/)
  })
})
