import assert from 'node:assert/strict'
import { humanBytes, humanDuration, humanSpan, humanTime } from '../../../src/cli/format.js'
import { renderBar } from '../../../src/cli/progress.js'

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

describe('cli/progress', () => {
  const bar = (o: { completed: number, total: number, stopped?: number, samples?: Array<[number, number]> }) =>
    ({ status: 'pulling 6a0746a1ec1a:', initial: 0, started: 0, samples: [], ...o })

  it('lays a bar out in Ollama\'s columns at the terminal\'s width', () => {
    const running = renderBar(bar({ completed: 790_000_000, total: 2_019_000_000, samples: [[0, 0], [10_000, 340_000_000]] }), 100)
    assert.equal(running.length, 99, 'one column short of the width, so the terminal never wraps')
    assert.match(running, /^pulling 6a0746a1ec1a:  39% ▕█+ +▏ 790 MB\/2\.0 GB {2} 34 MB\/s {5}36s$/)
    const done = renderBar(bar({ completed: 2_019_000_000, total: 2_019_000_000, stopped: 20_000 }), 80)
    assert.equal(done.length, 79)
    assert.match(done, /^pulling 6a0746a1ec1a: 100% ▕█+▏ 2\.0 GB {25}$/)
  })

  it('prints sizes and times left as Ollama does', () => {
    assert.deepEqual([999, 1000, 4_700_000_000, 2_000_000_000, 34_500_000, 123_456_789].map(humanBytes), ['999 B', '1 KB', '4.7 GB', '2 GB', '34 MB', '123 MB'])
    assert.deepEqual([35, 245, 2 * 3600 + 13 * 60 + 5, 100 * 3600].map(humanDuration), ['35s', '4m5s', '2h13m', '99h+'])
  })
})
