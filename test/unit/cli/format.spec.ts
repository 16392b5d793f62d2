import assert from 'node:assert/strict'
import { humanSpan, humanTime } from '../../../src/cli/format.js'

describe('cli/format: times as ollama prints them', () => {
  it('says spans as Ollama does', () => {
    const cases: Array<[number, string]> = [[0.4, 'Less than a second'], [1, '1 second'], [42, '42 seconds'], [61, 'About a minute'], [240, '4 minutes'],
      [3300, '55 minutes'], [3600 * 1.2, 'About an hour'], [3600 * 5, '5 hours'], [3600 * 47, '47 hours'], [86400 * 3, '3 days'], [86400 * 20, '2 weeks'], [86400 * 90, '3 months'], [86400 * 800, '2 years']]
    for (const [s, want] of cases) assert.equal(humanSpan(s), want, String(s))
  })

  it('says times ago, from now, forever and never', () => {
    const now = Date.parse('2026-12-04T12:00:00Z')
    assert.equal(humanTime('2026-12-04T11:56:00Z', now), '4 minutes ago')
    assert.equal(humanTime('2026-12-04T13:00:00Z', now), 'About an hour from now')
    assert.equal(humanTime('2318-01-01T00:00:00Z', now), 'Forever')
    assert.equal(humanTime('0001-01-01T00:00:00Z', now), 'Never')
    assert.equal(humanTime('not a time', now), 'Never')
  })
})
