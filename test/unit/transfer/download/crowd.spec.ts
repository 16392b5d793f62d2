import assert from 'node:assert/strict'
import { Bitmap } from '../../../../src/util/bitmap.js'
import { crowdRules, DEFER_STALL_MS, type CrowdInput } from '../../../../src/transfer/download/crowd.js'
import { PeerState } from '../../../../src/transfer/download/peer-state.js'

const CHUNKS = 8
const state = (id: string, holds: number[]): PeerState => {
  const bitmap = new Bitmap(CHUNKS)
  for (const i of holds) bitmap.set(i)
  return new PeerState({ id, bitmap })
}
const ALL = [...Array(CHUNKS).keys()]

/** A first holder and two other downloaders (a and c) around us (b). */
const input = (o: Partial<CrowdInput> = {}, holds: Record<string, number[]> = { a: [0], c: [] }): CrowdInput => {
  const peers = new Map([['seed', state('seed', ALL)], ...Object.entries(holds).map(([id, h]) => [id, state(id, h)] as const)])
  return { selfId: 'b', peers, present: () => true, usable: () => true, grewAt: () => 0, chunks: CHUNKS, needAnnounced: false, now: 0, ...o }
}

describe('transfer/crowd', () => {
  it('has no rules while we are the only downloader in view', () => {
    assert.equal(crowdRules(input({}, {})), undefined)
    assert.equal(crowdRules(input({}, { a: ALL })), undefined, 'a peer that holds it all is no downloader')
  })

  it('splits the chunks among the downloaders in id order', () => {
    const r = crowdRules(input())
    assert.ok(r !== undefined)
    assert.deepEqual(ALL.filter(i => r.share(i) === 0), [1, 4, 7], 'b is second of a, b, c')
  })

  it('waits for the owner of a chunk outside our share while it grows, not after it stalls', () => {
    const r = crowdRules(input())
    assert.equal(r?.defer(2), true, 'chunk 2 is c\'s to bring from the seed')
    assert.equal(r?.defer(0), false, 'a already holds chunk 0')
    assert.equal(r?.defer(1), false, 'chunk 1 is ours')
    assert.equal(crowdRules(input({ now: DEFER_STALL_MS + 1 }))?.defer(2), false, 'c has not grown for too long')
    assert.equal(crowdRules(input({ usable: st => st.id !== 'c' }))?.defer(2), false, 'c rests')
  })

  it('does not wait for a chunk that no first holder has: the registry owner rule decides those', () => {
    // A cluster pull from the registry: downloaders only, no first holder.
    const i = input()
    i.peers.delete('seed')
    const r = crowdRules(i)
    assert.ok(r !== undefined)
    assert.equal(r.defer(2), false, 'chunk 2 is in c\'s share, but only the registry has it')
    assert.equal(crowdRules(input({ usable: st => st.id !== 'seed' }))?.defer(2), false, 'the only first holder rests')
  })

  it('avoids a first holder for chunks another downloader can pass on, and limits it to one request', () => {
    const r = crowdRules(input())
    assert.equal(r?.avoid('seed', 0), true)
    assert.equal(r?.avoid('seed', 3), false, 'nobody else has chunk 3')
    assert.equal(r?.avoid('a', 0), false)
    assert.equal(crowdRules(input({ usable: st => st.id !== 'a' }))?.avoid('seed', 0), false, 'a rests: the seed may send it')
    const finished = input({}, { a: [], c: [], d: [] })
    const d = finished.peers.get('d') as PeerState
    d.view = { ...d.view, bitmap: state('x', ALL.slice(0, -1)).view.bitmap } // d finished after the download began (but for one chunk)
    assert.equal(crowdRules(finished)?.avoid('seed', 5), true, 'a downloader that has finished passes chunks on too')
    assert.equal(r?.limit('seed'), 1)
    assert.equal(r?.limit('a'), undefined)
  })

  it('takes a first holder as one more source once every chunk has reached a downloader', () => {
    // a and c hold every chunk between them: nothing is the seed's alone any more.
    const r = crowdRules(input({}, { a: [0, 1, 2, 3], c: [4, 5, 6, 7] }))
    assert.ok(r !== undefined)
    assert.equal(r.avoid('seed', 0), false)
    assert.equal(r.limit('seed'), undefined)
    assert.deepEqual(r.excess([{ chunk: 2, source: 'seed', started: 1 }, { chunk: 4, source: 'seed', started: 2 }], 5), [], 'no request to it is dropped')
    // One chunk still only the seed's: the rules hold for every chunk.
    const before = crowdRules(input({}, { a: [0, 1, 2, 3], c: [4, 5, 6] }))
    assert.equal(before?.avoid('seed', 0), true)
    assert.equal(before?.limit('seed'), 1)
  })

  it('drops the requests a first holder got past its limit, keeping our share and the oldest', () => {
    const r = crowdRules(input())
    const inflight = [
      { chunk: 2, source: 'seed', started: 1 },
      { chunk: 4, source: 'seed', started: 3 },
      { chunk: 1, source: 'seed', started: 2 },
      { chunk: 6, source: 'a', started: 0 }
    ]
    assert.deepEqual(r?.excess(inflight, 0).map(q => q.chunk).sort(), [2, 4], 'chunk 1 is ours and older than 4')
  })

  it('drops a request sent before the crowd was in view for a chunk another downloader brings', () => {
    const r = crowdRules(input())
    assert.deepEqual(r?.excess([{ chunk: 2, source: 'seed', started: 5 }], 10).map(q => q.chunk), [2], 'sent blind')
    assert.deepEqual(r?.excess([{ chunk: 2, source: 'seed', started: 15 }], 10), [], 'asked knowingly (its owner stalled, say)')
    assert.deepEqual(r?.excess([{ chunk: 4, source: 'seed', started: 5 }], 10), [], 'ours')
  })

  it('drops a request still queued at a first holder once another downloader can pass its chunk on', () => {
    // c got chunk 4 (ours) from the seed first; our own request for it waits in the seed's queue.
    const r = crowdRules(input({}, { a: [0], c: [4] }))
    const inflight = [{ chunk: 4, source: 'seed', started: 1 }]
    assert.deepEqual(r?.excess(inflight, 0).map(q => q.chunk), [4], 'queued: it gives way')
    assert.deepEqual(r?.excess(inflight, 0, () => true), [], 'served: its bytes are coming')
    assert.deepEqual(crowdRules(input())?.excess(inflight, 0), [], 'nobody else has chunk 4')
  })

  it('drops no request the first holder is serving already, and counts it against the limit', () => {
    const r = crowdRules(input())
    const served = new Set([2])
    const serving = (q: { chunk: number }): boolean => served.has(q.chunk)
    assert.deepEqual(r?.excess([{ chunk: 2, source: 'seed', started: 5 }], 10, serving), [], 'sent blind, but its bytes are coming')
    const inflight = [
      { chunk: 2, source: 'seed', started: 5 },
      { chunk: 1, source: 'seed', started: 2 },
      { chunk: 4, source: 'seed', started: 3 }
    ]
    assert.deepEqual(r?.excess(inflight, 0, serving).map(q => q.chunk).sort(), [1, 4], 'the one being served is kept, though ours are older')
  })
})
