import assert from 'node:assert/strict'
import { parseDurationMs } from '../../../src/util/duration.js'

describe('util/duration', () => {
  it('reads Go durations as Ollama\'s keep_alive takes them, and bare milliseconds', () => {
    const cases: Array<[string, number]> = [['5m', 300_000], ['1h30m', 5_400_000], ['2.5s', 2500], ['300ms', 300], ['300', 300], ['1500us', 2], ['24h', 86_400_000], [' 10s ', 10_000]]
    for (const [text, want] of cases) assert.equal(parseDurationMs(text), want, text)
  })

  it('refuses what is not a duration', () => {
    for (const text of ['', 'm5', '5x', '1h 30m', '-5m', '5 m', 'five', '1.s', '.5s']) assert.equal(parseDurationMs(text), undefined, text)
  })
})
