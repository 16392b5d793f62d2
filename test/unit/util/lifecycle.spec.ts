import assert from 'node:assert/strict'
import { startInOrder, type Startable } from '../../../src/util/lifecycle.js'

describe('util/lifecycle', () => {
  const part = (name: string, log: string[], fail = false): Startable => ({
    start: async () => { if (fail) throw new Error(`${name} cannot start`); log.push(`start ${name}`) },
    stop: async () => { log.push(`stop ${name}`) }
  })

  it('starts parts in order and stops them in reverse, once', async () => {
    const log: string[] = []
    const stop = await startInOrder([part('a', log), part('b', log), part('c', log)])
    await stop()
    await stop()
    assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
  })

  it('when a part fails to start, stops the ones already started and throws its error', async () => {
    const log: string[] = []
    await assert.rejects(startInOrder([part('a', log), part('b', log), part('c', log, true), part('d', log)]), /c cannot start/)
    assert.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a'])
  })
})
