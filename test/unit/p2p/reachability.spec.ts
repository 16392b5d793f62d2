import assert from 'node:assert/strict'
import { createReachability, DATA_RETRY_MS } from '../../../src/p2p/index.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('p2p/data: a data port left alone after failures', () => {
  it('waits a minute after a failure, twice as long after each failure in a row, and starts over once the port answers', () => {
    const clock = createFakeClock()
    const reach = createReachability(clock, DATA_RETRY_MS, 8 * DATA_RETRY_MS)
    const waitOf = (): number => {
      let waited = 0
      while (!reach.tryData('p')) { clock.advance(1000); waited += 1000 }
      return waited
    }
    assert.ok(reach.tryData('p'))
    const waits: number[] = []
    for (let i = 0; i < 5; i++) { reach.unreachable('p'); waits.push(waitOf()) }
    assert.deepEqual(waits.map(w => w / DATA_RETRY_MS), [1, 2, 4, 8, 8], 'doubling, up to the most')
    assert.ok(reach.tryData('q'), 'another peer is not held back')
    reach.reachable('p')
    reach.unreachable('p')
    assert.equal(waitOf(), DATA_RETRY_MS)
  })
})
