import assert from 'node:assert/strict'
import { createGenerateJobs } from '../../../src/inference/generate-jobs.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { settle } from '../../fixtures/wait-for.js'


describe('inference/generate-jobs', () => {
  it('runs a job past the request that made it, and keeps its result, node and error', async () => {
    const jobs = createGenerateJobs(createFakeClock(5_000))
    const ok = jobs.start('llama3', async () => ({ node: 'gpu-01', result: { response: 'hi' } }))
    const bad = jobs.start('llama3', async () => { throw new Error('no node could serve llama3') })
    assert.equal(jobs.get(ok)?.state, 'running')
    assert.equal(jobs.get(ok)?.createdAt, 5_000, 'stamped on the clock')
    await settle()
    assert.deepEqual(jobs.get(ok), { id: ok, state: 'completed', model: 'llama3', node: 'gpu-01', result: { response: 'hi' }, createdAt: 5_000 })
    assert.equal(jobs.get(bad)?.state, 'error')
    assert.equal(jobs.get(bad)?.error, 'no node could serve llama3')
    assert.equal(jobs.get('unknown'), undefined)
  })

  it('keeps the newest jobs only', () => {
    const jobs = createGenerateJobs(createFakeClock(), 2)
    const ids = [1, 2, 3].map(() => jobs.start('m', async () => ({ node: 'n', result: null })))
    assert.deepEqual(ids.map(id => jobs.get(id) !== undefined), [false, true, true])
  })
})
