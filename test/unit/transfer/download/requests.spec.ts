import assert from 'node:assert/strict'
import { createRequestBook, QUEUED_AFTER_MS } from '../../../../src/transfer/download/requests.js'
import { REGISTRY } from '../../../../src/transfer/download/picker.js'

const plain = { orphan: false, endgame: false, relayed: false }

describe('transfer/download/requests', () => {
  it('the first request of a chunk to be served wins; the ones still queued are withdrawn', () => {
    const book = createRequestBook(new AbortController().signal, { race: true })
    const a = book.open(3, 'a', 0, plain)
    const b = book.open(3, 'b', 0, plain)
    const other = book.open(4, 'c', 0, plain)
    assert.equal(book.served(b, 10), true)
    assert.equal(a.ac.signal.aborted, true, 'the queued request of the same chunk is withdrawn')
    assert.equal(other.ac.signal.aborted, false, 'another chunk is untouched')
    assert.deepEqual([...book.receiving()], [3])
  })

  it('a request served while another of its chunk is being served loses, unless it is an endgame duplicate', () => {
    const book = createRequestBook(new AbortController().signal, { race: true })
    const first = book.open(1, 'a', 0, plain)
    book.served(first, 1)
    // Both asked once the first was already coming (a slow one, duplicated at the end).
    const dup = book.open(1, 'c', 1, { ...plain, endgame: true })
    assert.equal(book.served(dup, 2), true, 'an endgame duplicate races the slow request')
    const late = book.open(1, 'b', 2, plain)
    assert.equal(book.served(late, 3), false)
    assert.equal(late.ac.signal.aborted, true)
    assert.equal(first.ac.signal.aborted, false)
  })

  it('a landed chunk ends the other requests for it, and dropping a peer ends only its requests', () => {
    const book = createRequestBook(new AbortController().signal, { race: true })
    const a = book.open(1, 'a', 0, plain)
    const b = book.open(1, 'b', 0, plain)
    const c = book.open(2, 'b', 0, plain)
    const d = book.open(2, 'd', 0, plain)
    book.landed(a, new Uint8Array(1))
    assert.equal(a.ac.signal.aborted, false)
    assert.equal(b.ac.signal.aborted, true)
    book.dropFrom('d', 'peer banned')
    assert.equal(d.ac.signal.aborted, true)
    assert.equal(c.ac.signal.aborted, false)
  })

  it('marks peer requests unanswered for a while as queued (raceable), never registry requests', () => {
    const book = createRequestBook(new AbortController().signal, { race: true })
    book.open(1, 'a', 0, plain)
    book.open(2, REGISTRY, 0, plain)
    assert.deepEqual(book.raceTimes(0), [QUEUED_AFTER_MS])
    assert.deepEqual(book.forPicker(QUEUED_AFTER_MS).map(r => r.queued), [true, false])
    const off = createRequestBook(new AbortController().signal, { race: false })
    off.open(1, 'a', 0, plain)
    assert.deepEqual(off.forPicker(QUEUED_AFTER_MS).map(r => r.queued), [false], 'no racing, nothing queued')
  })

  it('requests follow the download\'s signal until closed', () => {
    const run = new AbortController()
    const book = createRequestBook(run.signal, { race: true })
    const open = book.open(1, 'a', 0, plain)
    const closed = book.open(2, 'a', 0, plain)
    book.close(closed)
    assert.equal(book.size, 1)
    run.abort(new Error('stop'))
    assert.equal(open.ac.signal.aborted, true)
    assert.equal(closed.ac.signal.aborted, false)
  })
})
