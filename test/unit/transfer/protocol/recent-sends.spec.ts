import assert from 'node:assert/strict'
import type { Digest } from '../../../../src/store/index.js'
import { createRecentSends, RECENT_SEND_MS } from '../../../../src/transfer/protocol/recent-sends.js'
import { createFakeClock } from '../../../fixtures/fake-clock.js'

const d = `sha256:${'ab'.repeat(32)}` as Digest
const other = `sha256:${'cd'.repeat(32)}` as Digest

describe('recent sends (receivers counted as holders until their records catch up)', () => {
  it('counts each peer a chunk went to once, per blob and chunk', () => {
    const recent = createRecentSends(createFakeClock())
    recent.sent(d, 3, 'a')
    recent.sent(d, 3, 'a')
    recent.sent(d, 3, 'b')
    recent.sent(d, 4, 'c')
    assert.equal(recent.count(d, 3, 'x'), 2)
    assert.equal(recent.count(d, 4, 'x'), 1)
    assert.equal(recent.count(d, 5, 'x'), 0)
    assert.equal(recent.count(other, 3, 'x'), 0)
  })

  it('does not count the asker: a peer that asks again for a chunk it got does not hold it', () => {
    const recent = createRecentSends(createFakeClock())
    recent.sent(d, 3, 'a')
    recent.sent(d, 3, 'b')
    assert.equal(recent.count(d, 3, 'a'), 1)
    assert.equal(recent.count(d, 3, 'c'), 2)
  })

  it('stops counting a send once its time is past, and a new send counts again', () => {
    const clock = createFakeClock()
    const recent = createRecentSends(clock)
    recent.sent(d, 0, 'a')
    clock.advance(RECENT_SEND_MS - 1)
    recent.sent(d, 0, 'b')
    assert.equal(recent.count(d, 0, 'x'), 2)
    clock.advance(2)
    assert.equal(recent.count(d, 0, 'x'), 1, 'a is past, b is not')
    recent.sent(d, 0, 'a')
    assert.equal(recent.count(d, 0, 'x'), 2)
  })
})
