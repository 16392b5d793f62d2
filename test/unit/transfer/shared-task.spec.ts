import assert from 'node:assert/strict'
import { createSharedTask, joinRun, type SharedTask } from '../../../src/transfer/shared-task.js'
import { isOllamadError } from '../../../src/errors.js'

interface Evt { key: string, n: number }

/** A task whose progress and end the test drives by hand. */
function controlled () {
  let emit: (e: Evt) => void = () => { throw new Error('not started') }
  let signal: AbortSignal | undefined
  let finish: (v: string) => void = () => {}
  let fail: (e: Error) => void = () => {}
  let runs = 0
  let settled = 0
  const task = createSharedTask<string, Evt>(async (em, sig) => {
    runs++
    emit = em
    signal = sig
    return await new Promise<string>((resolve, reject) => {
      finish = resolve
      fail = reject
      sig.addEventListener('abort', () => { reject(sig.reason) }, { once: true })
    })
  }, e => e.key, () => { settled++ })
  return {
    task,
    emit: (e: Evt) => { emit(e) },
    signal: () => signal,
    finish: (v: string) => { finish(v) },
    fail: (e: Error) => { fail(e) },
    runs: () => runs,
    settled: () => settled
  }
}

const aborted = (e: unknown): boolean => { assert.ok(isOllamadError(e, 'ABORTED'), String(e)); return true }
const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('transfer/shared-task', () => {
  it('runs the work once for two joiners and gives both its result', async () => {
    const c = controlled()
    const first = c.task.join(undefined)
    const second = c.task.join(undefined)
    c.finish('done')
    assert.deepEqual(await Promise.all([first, second]), ['done', 'done'])
    assert.equal(c.runs(), 1)
    assert.equal(c.settled(), 1)
  })

  it('sends every event to every joiner', async () => {
    const c = controlled()
    const seenA: Evt[] = []
    const seenB: Evt[] = []
    const a = c.task.join(e => seenA.push(e))
    const b = c.task.join(e => seenB.push(e))
    c.emit({ key: 'x', n: 1 })
    c.emit({ key: 'y', n: 1 })
    c.finish('ok')
    await Promise.all([a, b])
    assert.deepEqual(seenA, [{ key: 'x', n: 1 }, { key: 'y', n: 1 }])
    assert.deepEqual(seenB, seenA)
  })

  it('gives a late joiner the latest event of each key first, then the new ones', async () => {
    const c = controlled()
    const early = c.task.join(() => {})
    c.emit({ key: 'a', n: 1 })
    c.emit({ key: 'b', n: 1 })
    c.emit({ key: 'a', n: 2 })
    const seen: Evt[] = []
    const late = c.task.join(e => seen.push(e))
    assert.deepEqual(seen, [{ key: 'b', n: 1 }, { key: 'a', n: 2 }])
    c.emit({ key: 'b', n: 2 })
    c.finish('ok')
    await Promise.all([early, late])
    assert.deepEqual(seen, [{ key: 'b', n: 1 }, { key: 'a', n: 2 }, { key: 'b', n: 2 }])
  })

  it('lets one joiner leave without touching the work or the other joiner', async () => {
    const c = controlled()
    const acA = new AbortController()
    const seenB: Evt[] = []
    const a = c.task.join(() => {}, acA.signal)
    const b = c.task.join(e => seenB.push(e), new AbortController().signal)
    acA.abort()
    await assert.rejects(a, aborted)
    assert.equal(c.signal()?.aborted, false)
    c.emit({ key: 'k', n: 1 })
    c.finish('still here')
    assert.equal(await b, 'still here')
    assert.deepEqual(seenB, [{ key: 'k', n: 1 }])
  })

  it('aborts the work only once every joiner\'s signal has fired', async () => {
    const c = controlled()
    const acA = new AbortController()
    const acB = new AbortController()
    const a = c.task.join(undefined, acA.signal)
    const b = c.task.join(undefined, acB.signal)
    acA.abort()
    await assert.rejects(a, aborted)
    assert.equal(c.signal()?.aborted, false)
    acB.abort()
    await assert.rejects(b, aborted)
    assert.equal(c.signal()?.aborted, true)
    await assert.rejects(c.task.done, aborted)
    await tick()
    assert.equal(c.settled(), 1)
  })

  it('refuses a joiner whose signal has already fired, without counting it', async () => {
    const c = controlled()
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(c.task.join(undefined, ac.signal), aborted)
    assert.equal(c.signal()?.aborted, false)
    const live = c.task.join(undefined)
    c.finish('ok')
    assert.equal(await live, 'ok')
  })

  it('passes the work\'s failure to every joiner', async () => {
    const c = controlled()
    const a = c.task.join(undefined)
    const b = c.task.join(undefined)
    c.fail(new Error('registry said no'))
    await assert.rejects(a, /registry said no/)
    await assert.rejects(b, /registry said no/)
    assert.equal(c.settled(), 1)
  })

  it('disposes of a result that comes after every joiner left, and passes one that comes in time', async () => {
    const disposed: string[] = []
    let finish: (v: string) => void = () => {}
    // Work that ends with a result even once told to stop (it was done just as the last joiner went).
    const make = (): SharedTask<string, Evt> => createSharedTask<string, Evt>(async () => await new Promise<string>(resolve => { finish = resolve }), e => e.key, () => {}, async r => { disposed.push(r) })
    const late = make()
    const ac = new AbortController()
    const gone = late.join(undefined, ac.signal)
    ac.abort()
    await assert.rejects(gone, aborted)
    finish('open partial')
    await assert.rejects(late.done, aborted)
    assert.deepEqual(disposed, ['open partial'], 'nobody could take it: it is disposed of')
    const inTime = make()
    const taker = inTime.join(undefined)
    finish('kept')
    assert.equal(await taker, 'kept')
    assert.deepEqual(disposed, ['open partial'], 'a result a joiner took is its own')
  })

  it('stops sending events to a joiner that has left', async () => {
    const c = controlled()
    const acA = new AbortController()
    const seenA: Evt[] = []
    const a = c.task.join(e => seenA.push(e), acA.signal)
    const b = c.task.join(undefined)
    c.emit({ key: 'k', n: 1 })
    acA.abort()
    await assert.rejects(a, aborted)
    c.emit({ key: 'k', n: 2 })
    c.finish('ok')
    await b
    assert.deepEqual(seenA, [{ key: 'k', n: 1 }])
  })

  describe('joinRun', () => {
    /** Runs kept in a map, each one the test ends by hand; a stopped run unwinds until `unwind` is called. */
    const runs = () => {
      const map = new Map<string, SharedTask<string, Evt>>()
      const made: Array<{ finish: (v: string) => void, unwind: () => void }> = []
      const start = (key: string) => (): SharedTask<string, Evt> => createSharedTask<string, Evt>(async (_emit, sig) => await new Promise<string>((resolve, reject) => {
        made.push({ finish: resolve, unwind: () => { reject(sig.reason) } })
      }), e => e.key, () => { map.delete(key) })
      return { map, made, start }
    }

    it('waits out a run every caller left, then starts a new one, so quitting and pulling again at once works', async () => {
      const r = runs()
      const first = new AbortController()
      const a = joinRun(r.map, 'm', r.start('m'), undefined, first.signal)
      first.abort()
      await assert.rejects(a, aborted)
      assert.equal(r.map.get('m')?.cancelled, true, 'the first run is still unwinding')
      const b = joinRun(r.map, 'm', r.start('m'), undefined)
      await tick()
      assert.equal(r.made.length, 1, 'no second run while the first unwinds')
      r.made[0]?.unwind()
      await tick()
      assert.equal(r.made.length, 2)
      r.made[1]?.finish('ok')
      assert.equal(await b, 'ok', 'the new caller gets the new run, not the old one\'s abort')
    })

    it('joins a live run, and starts none for a caller already gone', async () => {
      const r = runs()
      const a = joinRun(r.map, 'm', r.start('m'), undefined)
      const b = joinRun(r.map, 'm', r.start('m'), undefined)
      const gone = new AbortController()
      gone.abort()
      await assert.rejects(joinRun(r.map, 'x', r.start('x'), undefined, gone.signal), aborted)
      assert.equal(r.made.length, 1, 'one run for two callers, none for the caller already gone')
      r.made[0]?.finish('ok')
      assert.deepEqual(await Promise.all([a, b]), ['ok', 'ok'])
    })
  })
})
