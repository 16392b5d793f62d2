import assert from 'node:assert/strict'
import { parseSize, createRateLimiter } from '../../../src/util/rate-limit.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('util/rate-limit', () => {
  describe('parseSize', () => {
    it('reads decimal units: 500M, 100mb, 2G, 10k', () => {
      assert.equal(parseSize('500M'), 500_000_000)
      assert.equal(parseSize('100mb'), 100_000_000)
      assert.equal(parseSize('2G'), 2_000_000_000)
      assert.equal(parseSize('10k'), 10_000)
    })

    it('reads binary units: 1.5GiB, 64KiB, 1TiB', () => {
      assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3)
      assert.equal(parseSize('64KiB'), 64 * 1024)
      assert.equal(parseSize('1TiB'), 1024 ** 4)
    })

    it('reads plain bytes and a rate suffix: 1234, 10M/s, 5 MB/s', () => {
      assert.equal(parseSize('1234'), 1234)
      assert.equal(parseSize('10M/s'), 10_000_000)
      assert.equal(parseSize(' 5 MB/s '), 5_000_000)
    })

    it('rounds fractional bytes down', () => {
      assert.equal(parseSize('1.5'), 1)
    })

    it('rejects words, negative numbers, unknown units and empty input', () => {
      for (const s of ['abc', '-1', '5X', '', 'M', '1.2.3M', '10M/m', '1e6']) {
        assert.throws(() => parseSize(s), /invalid size/, s)
      }
    })
  })

  describe('createRateLimiter', () => {
    it('lets everything through at once without a rate', async () => {
      const clock = createFakeClock()
      await createRateLimiter(clock, undefined).take(1e12)
      await createRateLimiter(clock, 0).take(1e12)
      assert.equal(clock.pending(), 0)
    })

    it('passes a burst at once and makes the next take wait for the bytes to fit the rate', async () => {
      const clock = createFakeClock()
      const limiter = createRateLimiter(clock, 1000)
      await limiter.take(50)
      assert.equal(clock.pending(), 0, 'a 50 ms burst passes without waiting')
      let done = false
      const p = limiter.take(1000).then(() => { done = true })
      assert.equal(clock.nextIn(), 950)
      clock.advance(949)
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(done, false)
      clock.advance(1)
      await p
      assert.equal(done, true)
    })

    it('stops waiting when the signal fires', async () => {
      const clock = createFakeClock()
      const limiter = createRateLimiter(clock, 10)
      await limiter.take(1)
      const ac = new AbortController()
      const p = limiter.take(1000, ac.signal)
      ac.abort(new Error('gone'))
      await assert.rejects(p, /gone/)
      assert.equal(clock.pending(), 0)
    })
  })
})
