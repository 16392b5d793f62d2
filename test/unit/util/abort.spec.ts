import assert from 'node:assert/strict'
import { getEventListeners, getMaxListeners } from 'node:events'
import { linkedController } from '../../../src/util/abort.js'

describe('util/abort', () => {
  it('follows its parent until released, and an aborted parent aborts it at once', () => {
    const parent = new AbortController()
    const { ac, release } = linkedController(parent.signal)
    assert.equal(getEventListeners(parent.signal, 'abort').length, 1)
    release()
    assert.equal(getEventListeners(parent.signal, 'abort').length, 0)
    parent.abort(new Error('gone'))
    assert.equal(ac.signal.aborted, false)

    const late = linkedController(parent.signal)
    assert.equal(late.ac.signal.aborted, true)
    assert.equal((late.ac.signal.reason as Error).message, 'gone')

    const followed = new AbortController()
    const child = linkedController(followed.signal)
    followed.abort(new Error('cancelled'))
    assert.equal((child.ac.signal.reason as Error).message, 'cancelled')
  })

  it('takes the listeners of a task\'s concurrent requests without a leak warning', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error): void => { warnings.push(w) }
    process.on('warning', onWarning)
    try {
      const { ac } = linkedController(new AbortController().signal)
      const offs = Array.from({ length: 40 }, () => {
        const l = (): void => {}
        ac.signal.addEventListener('abort', l)
        return () => { ac.signal.removeEventListener('abort', l) }
      })
      // Warnings are emitted on the next tick.
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(warnings.filter(w => w.name === 'MaxListenersExceededWarning').map(w => w.message), [])
      for (const off of offs) off()
      // A plain signal would have warned past ten.
      assert.equal(getMaxListeners(new AbortController().signal), 10)
      assert.ok(getMaxListeners(ac.signal) >= 40)
    } finally {
      process.off('warning', onWarning)
    }
  })
})
