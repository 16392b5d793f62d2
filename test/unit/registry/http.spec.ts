import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import { isOllamadError } from '../../../src/errors.js'
import { stallGuarded } from '../../../src/registry/http.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'

describe('registry/http stallGuarded', () => {
  const body = (): PassThrough & IncomingMessage => new PassThrough() as PassThrough & IncomingMessage

  it('passes the pieces through and ends with the body', async () => {
    const res = body()
    const pieces = stallGuarded(res, createFakeClock(), 1000)
    res.end(Buffer.from('abc'))
    const got: string[] = []
    for await (const p of pieces) got.push(p.toString())
    assert.deepEqual(got, ['abc'])
  })

  it('destroys the response with STALLED when no piece comes in time', async () => {
    const clock = createFakeClock()
    const res = body()
    const pieces = stallGuarded(res, clock, 1000)
    res.write(Buffer.from('a'))
    assert.equal((await pieces.next()).value?.toString(), 'a')
    const next = pieces.next()
    await new Promise(resolve => setImmediate(resolve))
    clock.advance(999)
    assert.equal(res.destroyed, false, 'not before the stall time')
    clock.advance(1)
    await assert.rejects(next, (e: unknown) => isOllamadError(e, 'STALLED'))
    assert.equal(res.destroyed, true)
  })

  it('does not count the time the reader spends on a piece', async () => {
    const clock = createFakeClock()
    const res = body()
    const pieces = stallGuarded(res, clock, 1000)
    res.write(Buffer.from('a'))
    await pieces.next()
    clock.advance(5000)
    res.end(Buffer.from('b'))
    assert.equal((await pieces.next()).value?.toString(), 'b')
    assert.equal((await pieces.next()).done, true)
    assert.equal(clock.pending(), 0, 'no timer left behind')
  })
})
