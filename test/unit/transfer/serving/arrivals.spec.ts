import assert from 'node:assert/strict'
import { createArrivals, type Arrival, type ArrivalHandle, type Arrivals } from '../../../../src/transfer/serving/arrivals.js'
import { PeerState } from '../../../../src/transfer/download/peer-state.js'
import { Bitmap } from '../../../../src/util/bitmap.js'
import type { Digest } from '../../../../src/store/index.js'

const D = `sha256:${'a'.repeat(64)}` as Digest
const E = `sha256:${'b'.repeat(64)}` as Digest

/** Chunk `index` of D (8 bytes) begun arriving into `buf`: the download's handle and a relay's view. */
const opened = (arrivals: Arrivals, index: number, buf = new Uint8Array(8)): { h: ArrivalHandle, a: Arrival } => {
  const h = arrivals.begin(D, index, buf, 8)
  const a = arrivals.get(D, index)
  assert.ok(h !== undefined && a !== undefined)
  return { h, a }
}

describe('arrivals (chunks relayed as they come)', () => {
  it('tracks one arrival per chunk, lists them per blob and says when the list changes', () => {
    const arrivals = createArrivals()
    let changes = 0
    arrivals.onChange(() => { changes++ })
    const h = arrivals.begin(D, 3, new Uint8Array(10), 10)
    assert.ok(h !== undefined)
    assert.equal(arrivals.begin(D, 3, new Uint8Array(10), 10), undefined, 'a second arrival of one chunk is refused')
    assert.equal(arrivals.begin(D, 4, new Uint8Array(5), 10), undefined, 'a buffer shorter than the chunk is refused')
    arrivals.begin(E, 1, new Uint8Array(10), 10)
    assert.deepEqual(arrivals.arriving(D), [3])
    assert.equal(changes, 2)
    h.progress(4)
    assert.equal(arrivals.get(D, 3)?.got, 4)
    h.progress(2)
    assert.equal(arrivals.get(D, 3)?.got, 4, 'progress never goes back')
    h.land()
    assert.equal(arrivals.get(D, 3), undefined)
    assert.deepEqual(arrivals.arriving(D), [])
    assert.deepEqual(arrivals.arriving(E), [1])
    assert.equal(changes, 3)
  })

  it('wakes readers on progress and at the end, and a landed arrival counts as whole', async () => {
    const arrivals = createArrivals()
    const { h, a } = opened(arrivals, 0)
    const woke = a.changed()
    h.progress(3)
    await woke
    const ended = a.changed()
    h.land()
    await ended
    assert.equal(a.state, 'landed')
    assert.equal(a.got, 8)
    await a.changed() // over: resolves at once
  })

  it('ends an open arrival as failed on release, and hands the buffer back once no relay reads it', async () => {
    const arrivals = createArrivals()
    const { h, a } = opened(arrivals, 0)
    const first = a.pin()
    const second = a.pin()
    let reused = 0
    h.release(() => { reused++ })
    assert.equal(a.state, 'failed', 'released before it landed: the arrival failed')
    assert.equal(arrivals.get(D, 0), undefined)
    assert.equal(reused, 0, 'two relays still read it')
    first(true)
    first(false) // twice is once
    assert.equal(reused, 0, 'one relay still reads it')
    second(true)
    assert.equal(reused, 1, 'both relays let go with their slices gone')
    let unread = false
    arrivals.begin(D, 1, new Uint8Array(8), 8)?.release(() => { unread = true })
    assert.equal(unread, true, 'no relay: at once')
  })

  it('never hands back a buffer a relay let go of while its slices may still be queued', async () => {
    const arrivals = createArrivals()
    for (const order of ['before', 'after']) {
      const { h, a } = opened(arrivals, order === 'before' ? 0 : 1)
      const queued = a.pin()
      const clean = a.pin()
      let reused = false
      if (order === 'before') queued()
      h.land()
      h.release(() => { reused = true })
      clean(true)
      if (order === 'after') queued(false)
      assert.equal(reused, false, `a relay without a flush ${order} the release`)
    }
  })

  it('lands from another request\'s checked bytes, unless what it already had differs from them', async () => {
    const arrivals = createArrivals()
    const good = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
    const buf = new Uint8Array(8)
    buf.set(good.subarray(0, 3))
    const { h, a } = opened(arrivals, 0, buf)
    h.progress(3)
    const unpin = a.pin()
    h.landWith(good)
    assert.equal(a.state, 'landed')
    assert.equal(a.got, 8)
    assert.deepEqual([...a.buf], [...good], 'a relay reads on from the checked bytes')
    assert.notEqual(a.buf, buf, 'from a copy: the request\'s own buffer is not written')
    unpin()

    const bad = new Uint8Array(8)
    bad.set([9, 9, 9])
    const { h: h2, a: a2 } = opened(arrivals, 1, bad)
    h2.progress(3)
    h2.landWith(good)
    assert.equal(a2.state, 'failed', 'bytes already relayed were not those that were checked')
  })

  it('stops a waiting reader when its signal aborts', async () => {
    const arrivals = createArrivals()
    arrivals.begin(D, 0, new Uint8Array(8), 8)
    const ac = new AbortController()
    const wait = arrivals.get(D, 0)?.changed(ac.signal)
    ac.abort(new Error('gone'))
    await assert.rejects(wait as Promise<void>, /gone/)
  })
})

describe('a peer that relays arriving chunks', () => {
  const peer = (held: number[], arriving: number[]): PeerState => {
    const bitmap = new Bitmap(8)
    for (const i of held) bitmap.set(i)
    const a = new Bitmap(8)
    for (const i of arriving) a.set(i)
    return new PeerState({ id: 'p', bitmap, arriving: a })
  }

  it('counts as holding an arriving chunk only when a chunk map can check it, and not when told it may be our own bytes', () => {
    const st = peer([0], [1])
    assert.equal(st.holds(1, false), true)
    assert.equal(st.holds(1, true), false, 'no map: nothing announced to check a relayed chunk against')
    assert.equal(st.holds(1, false, false), false, 'a chunk coming to us now: the peer may be relaying it from us')
    assert.equal(st.holds(0, false, false), true, 'held whole: always a source')
    assert.equal(st.holds(2, false), false)
  })

  it('is not asked again for a chunk it would not relay, until a later arrival shows or it holds it', () => {
    const st = peer([0], [1])
    st.deny(1)
    assert.equal(st.holds(1, false), false)
    assert.equal(st.denied.has(1), false, 'a refused relay is not a refused held chunk')
    const again = new Bitmap(8)
    again.set(1)
    st.update({ id: 'p', bitmap: st.view.bitmap, arriving: again })
    assert.equal(st.holds(1, false), false, 'the same arrival still shows')
    st.update({ id: 'p', bitmap: st.view.bitmap })
    st.update({ id: 'p', bitmap: st.view.bitmap, arriving: again })
    assert.equal(st.holds(1, false), true, 'a later arrival is asked again')
    st.deny(1)
    const bitmap = new Bitmap(8)
    bitmap.set(0)
    bitmap.set(1)
    st.update({ id: 'p', bitmap })
    assert.equal(st.holds(1, false), true, 'held now: asked as any held chunk')
    st.deny(0)
    assert.equal(st.denied.has(0), true)
    assert.equal(st.holds(0, false), false)
  })
})
