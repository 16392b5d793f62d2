import assert from 'node:assert/strict'
import { createMutex } from '../../../src/util/mutex.js'

const deferred = (): { promise: Promise<void>, resolve: () => void } => {
  let resolve: () => void = () => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

describe('util/mutex', () => {
  it('runs sections one at a time, in the order they arrived', async () => {
    const m = createMutex()
    const log: string[] = []
    const gate = deferred()
    const first = m.run(async () => { log.push('1 start'); await gate.promise; log.push('1 end'); return 1 })
    const second = m.run(async () => { log.push('2 start'); log.push('2 end'); return 2 })
    const third = m.run(async () => { log.push('3 start'); return 3 })
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(log, ['1 start'], 'nothing else starts while the first section holds the lock')
    gate.resolve()
    assert.deepEqual(await Promise.all([first, second, third]), [1, 2, 3])
    assert.deepEqual(log, ['1 start', '1 end', '2 start', '2 end', '3 start'])
  })

  it('gives a failing section\'s error to its caller and still runs the next one', async () => {
    const m = createMutex()
    const failing = m.run(async () => { throw new Error('boom') })
    const next = m.run(async () => 'ran')
    await assert.rejects(failing, /boom/)
    assert.equal(await next, 'ran')
  })

  it('runs a section queued after a failure only once the failure settled', async () => {
    const m = createMutex()
    const gate = deferred()
    const log: string[] = []
    const failing = m.run(async () => { await gate.promise; log.push('fail'); throw new Error('x') })
    const next = m.run(async () => { log.push('next') })
    gate.resolve()
    await assert.rejects(failing)
    await next
    assert.deepEqual(log, ['fail', 'next'])
  })
})
