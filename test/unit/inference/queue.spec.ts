import assert from 'node:assert/strict'
import { createInferQueue, parsePriority, type Priority } from '../../../src/inference/queue.js'
import { isOllamadError } from '../../../src/errors.js'

describe('inference/queue', () => {
  it('runs high before normal before low, and keeps one model together among equals', async () => {
    const q = createInferQueue({ concurrency: 1, maxWaiting: 10 })
    const ac = new AbortController()
    const first = await q.acquire('m0', 'normal', ac.signal)
    const order: string[] = []
    const wait = (label: string, model: string, p: Priority): Promise<void> => q.acquire(model, p, ac.signal).then(release => { order.push(label); release() })
    const all = [wait('low-a', 'a', 'low'), wait('normal-b', 'b', 'normal'), wait('normal-a', 'a', 'normal'), wait('high-a', 'a', 'high'), wait('low-b', 'b', 'low')]
    assert.deepEqual(q.stats(), { running: 1, waiting: 5 })
    first()
    await Promise.all(all)
    // After high-a, model a ran last: normal-a goes before normal-b; after normal-b, low-b before low-a.
    assert.deepEqual(order, ['high-a', 'normal-a', 'normal-b', 'low-b', 'low-a'])
  })

  it('refuses past the waiting limit, and a request aborted while waiting leaves the queue', async () => {
    const q = createInferQueue({ concurrency: 1, maxWaiting: 1 })
    const ac = new AbortController()
    const hold = await q.acquire('m', 'normal', ac.signal)
    const gone = new AbortController()
    const waiting = q.acquire('m', 'normal', gone.signal)
    await assert.rejects(q.acquire('m', 'high', ac.signal), (e: unknown) => isOllamadError(e, 'QUEUE_FULL'))
    gone.abort()
    await assert.rejects(waiting, (e: unknown) => isOllamadError(e, 'ABORTED'))
    assert.deepEqual(q.stats(), { running: 1, waiting: 0 })
    hold()
    assert.deepEqual(q.stats(), { running: 0, waiting: 0 })
  })

  it('reads X-Ollamad-Priority, refusing anything else', () => {
    assert.equal(parsePriority(undefined), 'normal')
    assert.equal(parsePriority('high'), 'high')
    assert.throws(() => parsePriority('urgent'), /high, normal or low/)
  })
})
