import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pick, ORDER_BLOCK, REGISTRY, type Assignment, type PickerInput, type PickerPeer } from '../../../../src/transfer/download/picker.js'

const peer = (id: string, holds: number[], o: Partial<PickerPeer> = {}): PickerPeer =>
  ({ id, has: i => holds.includes(i), inflight: 0, ...o })

const base = (o: Partial<PickerInput>): PickerInput => ({
  chunks: 0, have: () => false, peers: [], inflight: [], perPeerLimit: 4, endgame: true, seed: 1, ...o
})

/** A random but consistent picker input: in-flight counts per peer follow the in-flight list. */
const inputs = fc.record({
  chunks: fc.integer({ min: 1, max: 40 }),
  peers: fc.array(fc.record({ holds: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), banned: fc.boolean(), rate: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }) }), { maxLength: 6 }),
  have: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  inflight: fc.array(fc.record({ chunk: fc.nat(39), source: fc.nat(6), started: fc.nat(1000), queued: fc.boolean() }), { maxLength: 12 }),
  perPeerLimit: fc.integer({ min: 1, max: 4 }),
  registry: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  maxInflight: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  endgame: fc.boolean(),
  raceQueued: fc.boolean(),
  seed: fc.nat()
}).map(r => {
  const ids = r.peers.map((_, i) => `peer${i}`)
  const sourceId = (n: number): string => n < ids.length ? ids[n] as string : REGISTRY
  const seen = new Set<string>()
  const inflight = r.inflight
    .filter(q => q.chunk < r.chunks && r.have[q.chunk] !== true && (sourceId(q.source) !== REGISTRY || r.registry !== undefined))
    .map(q => ({ chunk: q.chunk, source: sourceId(q.source), started: q.started, queued: q.queued && sourceId(q.source) !== REGISTRY }))
    .filter(q => { const k = `${q.source}/${q.chunk}`; if (seen.has(k)) return false; seen.add(k); return true })
  const input: PickerInput = {
    chunks: r.chunks,
    have: i => r.have[i] === true,
    peers: r.peers.map((p, i) => ({
      id: ids[i] as string,
      has: (c: number) => p.holds[c] === true,
      inflight: inflight.filter(q => q.source === ids[i]).length,
      banned: p.banned,
      rate: p.rate
    })),
    inflight,
    perPeerLimit: r.perPeerLimit,
    maxInflight: r.maxInflight,
    registry: r.registry === undefined ? undefined : { limit: r.registry },
    endgame: r.endgame,
    raceQueued: r.raceQueued,
    seed: r.seed
  }
  return input
})

const availability = (input: PickerInput, chunk: number): number =>
  input.peers.filter(p => p.banned !== true && p.has(chunk)).length

const loadAfter = (input: PickerInput, out: Assignment[], source: string): number =>
  input.inflight.filter(q => q.source === source).length + out.filter(a => a.source === source).length

describe('piece picker', () => {
  it('rarest chunk first', () => {
    const out = pick(base({ chunks: 3, perPeerLimit: 1, peers: [peer('a', [0, 1, 2]), peer('b', [0, 1]), peer('c', [0])] }))
    assert.deepEqual(out.map(a => [a.chunk, a.source]), [[2, 'a'], [1, 'b'], [0, 'c']])
  })

  it('keeps a few requests in flight per peer', () => {
    const out = pick(base({ chunks: 10, perPeerLimit: 3, peers: [peer('a', [...Array(10).keys()], { inflight: 1 })] }))
    assert.equal(out.length, 2)
  })

  it('sends to the registry only the chunks no usable peer holds', () => {
    const out = pick(base({
      chunks: 4,
      peers: [peer('a', [0, 1]), peer('banned', [2], { banned: true })],
      registry: { limit: 1 }
    }))
    const registry = out.filter(a => a.source === REGISTRY).map(a => a.chunk)
    assert.equal(registry.length, 1)
    assert.ok(registry[0] === 2 || registry[0] === 3)
    assert.deepEqual(out.filter(a => a.source === 'a').map(a => a.chunk).sort(), [0, 1])
  })

  it('takes upstream only the chunks this node owns, and marks true orphans', () => {
    const out = pick(base({
      chunks: 6,
      peers: [peer('resting', [4], { resting: true })],
      registry: { limit: 6, allowed: (i) => i % 2 === 0 }
    }))
    const upstream = out.filter(a => a.source === REGISTRY)
    assert.deepEqual(upstream.map(a => a.chunk).sort(), [0, 2, 4], 'chunks owned by other nodes wait for them')
    assert.equal(upstream.find(a => a.chunk === 4)?.orphan, false, 'a resting holder still holds chunk 4')
    assert.equal(upstream.find(a => a.chunk === 0)?.orphan, true)
  })

  it('takes this node\'s share first when many download one blob', () => {
    const out = pick(base({ chunks: 8, perPeerLimit: 4, peers: [peer('holder', [...Array(8).keys()])], share: (i) => i % 4 === 1 ? 0 : 1 }))
    assert.deepEqual(out.map(a => a.chunk).slice(0, 2).sort(), [1, 5], 'chunks 1 and 5 are this node\'s quarter')
  })

  it('avoids a holder for a chunk when told to, for endgame duplicates too', () => {
    const all = [0, 1, 2, 3]
    const avoid = (id: string, i: number): boolean => id === 'seed' && i < 2
    const out = pick(base({ chunks: 4, endgame: false, peers: [peer('seed', all), peer('other', [0, 1])], avoid }))
    assert.deepEqual(out.filter(a => a.source === 'seed').map(a => a.chunk).sort(), [2, 3])
    assert.deepEqual(out.filter(a => a.source === 'other').map(a => a.chunk).sort(), [0, 1])
    const busy = [{ chunk: 0, source: 'other', started: 0 }, { chunk: 2, source: 'other', started: 1 }]
    const dup = pick(base({ chunks: 3, perPeerLimit: 2, have: i => i === 1, peers: [peer('seed', all), peer('other', [0, 2], { inflight: 2 })], inflight: busy, avoid }))
    assert.deepEqual(dup.map(a => [a.source, a.chunk, a.duplicate]), [['seed', 2, true]], 'chunk 0 is not raced on the seed; chunk 2 may be')
  })

  it('a peer\'s own limit overrides the per-peer limit', () => {
    const all = [0, 1, 2, 3, 4, 5]
    const out = pick(base({ chunks: 6, perPeerLimit: 4, peers: [peer('seed', all, { limit: 1 }), peer('other', all)] }))
    assert.equal(out.filter(a => a.source === 'seed').length, 1)
    assert.equal(out.filter(a => a.source === 'other').length, 4)
  })

  it('gives more work to faster peers', () => {
    const out = pick(base({ chunks: 8, perPeerLimit: 4, peers: [peer('slow', [...Array(8).keys()], { rate: 1 }), peer('fast', [...Array(8).keys()], { rate: 10 })] }))
    assert.equal(out.filter(a => a.source === 'fast').length, 4)
    assert.ok(out.findIndex(a => a.source === 'fast') < out.findIndex(a => a.source === 'slow'))
  })

  it('keeps the total in flight under its cap', () => {
    const all = [...Array(10).keys()]
    const out = pick(base({ chunks: 10, maxInflight: 3, peers: [peer('a', all), peer('b', all)], inflight: [{ chunk: 9, source: 'a', started: 0 }] }))
    assert.equal(out.length, 2)
  })

  it('endgame duplicates the oldest request on an idle peer once every chunk is requested', () => {
    const all = [0, 1, 2]
    const input = base({
      chunks: 3,
      have: i => i === 0,
      peers: [peer('a', all, { inflight: 2 }), peer('b', all)],
      inflight: [{ chunk: 2, source: 'a', started: 5 }, { chunk: 1, source: 'a', started: 3 }]
    })
    assert.deepEqual(pick(input), [{ source: 'b', chunk: 1, duplicate: true }, { source: 'b', chunk: 2, duplicate: true }])
    assert.deepEqual(pick({ ...input, endgame: false }), [])
    assert.deepEqual(pick({ ...input, maxDuplicates: 1 }), [])
  })

  it('races a request that waits in a queue on another holder with room, after the fresh chunks', () => {
    const all = [0, 1]
    const input = base({
      chunks: 2,
      endgame: false,
      raceQueued: true,
      perPeerLimit: 1,
      peers: [peer('crowded', all, { inflight: 1 }), peer('other', all)],
      inflight: [{ chunk: 0, source: 'crowded', started: 0, queued: true }]
    })
    assert.deepEqual(pick(input), [{ source: 'other', chunk: 1, duplicate: false }], 'a fresh chunk comes first')
    const one = { ...input, chunks: 1 }
    assert.deepEqual(pick(one), [{ source: 'other', chunk: 0, duplicate: true, race: true }])
    assert.deepEqual(pick({ ...one, inflight: [{ chunk: 0, source: 'crowded', started: 0 }] }), [], 'being served: no race')
    assert.deepEqual(pick({ ...one, raceQueued: false }), [], 'not asked to race')
  })

  it('spreads equally rare chunks differently for different seeds', () => {
    const holders = [peer('a', [...Array(32).keys()])]
    const first = (seed: number): number => (pick(base({ chunks: 32, perPeerLimit: 1, peers: holders, seed }))[0] as Assignment).chunk
    assert.ok(new Set([1, 2, 3, 4, 5, 6, 7, 8].map(first)).size > 1)
  })

  it('takes equally rare chunks a block at a time, so the whole-blob hash can follow', () => {
    const chunks = ORDER_BLOCK * 4
    const holder = peer('a', [...Array(chunks).keys()])
    const firstBlock = (seed: number, have: (i: number) => boolean = () => false): number[] =>
      pick(base({ chunks, have, perPeerLimit: ORDER_BLOCK, peers: [holder], seed })).map(a => a.chunk)
    const blockOf = (i: number): number => Math.floor(i / ORDER_BLOCK)
    for (const seed of [1, 2, 3]) assert.deepEqual(firstBlock(seed).map(blockOf), Array(ORDER_BLOCK).fill(0), `seed ${seed}: block 0 first`)
    assert.notDeepEqual(firstBlock(1), firstBlock(2), 'other seeds, another order within the block')
    // With the first block held, the next block comes next.
    assert.deepEqual(firstBlock(1, i => i < ORDER_BLOCK).map(blockOf), Array(ORDER_BLOCK).fill(1))
    // Rarity still comes first: a chunk only one of two holders has goes before any block order.
    const rare = chunks - 1
    const other = peer('b', [...Array(chunks).keys()].filter(i => i !== rare))
    assert.equal(pick(base({ chunks, perPeerLimit: 1, peers: [holder, other], seed: 1 }))[0]?.chunk, rare)
  })

  it('holds its rules for any input', () => {
    fc.assert(fc.property(inputs, input => {
      const out = pick(input)
      assert.deepEqual(pick(input), out, 'the same input gives the same picks')
      const pairs = new Set(input.inflight.map(q => `${q.source}/${q.chunk}`))
      for (const a of out) {
        assert.ok(!input.have(a.chunk), 'never a chunk we have')
        assert.ok(a.chunk >= 0 && a.chunk < input.chunks)
        assert.ok(!pairs.has(`${a.source}/${a.chunk}`), 'never the same chunk twice from one source')
        pairs.add(`${a.source}/${a.chunk}`)
        if (a.source === REGISTRY) {
          assert.ok(input.registry !== undefined, 'the registry only when there is one')
          assert.equal(availability(input, a.chunk), 0, 'the registry only for chunks no usable peer holds')
          continue
        }
        const p = input.peers.find(p => p.id === a.source)
        assert.ok(p !== undefined && p.banned !== true, 'never a banned peer')
        assert.ok(p.has(a.chunk), 'only chunks the peer holds')
      }
      for (const p of input.peers) assert.ok(out.every(a => a.source !== p.id) || loadAfter(input, out, p.id) <= input.perPeerLimit, 'per-peer limit')
      if (input.registry !== undefined) assert.ok(out.every(a => a.source !== REGISTRY) || loadAfter(input, out, REGISTRY) <= input.registry.limit, 'registry limit')

      const total = input.inflight.length + out.length
      if (out.length > 0) assert.ok(total <= (input.maxInflight ?? Infinity), 'total requests in flight')
      const capped = total >= (input.maxInflight ?? Infinity)
      const requested = new Set([...input.inflight, ...out].map(q => q.chunk))
      const idle = (i: number): boolean => !input.have(i) && !requested.has(i)
      for (const a of out.filter(a => !a.duplicate && a.source !== REGISTRY)) {
        const p = input.peers.find(p => p.id === a.source) as PickerPeer
        for (let b = 0; b < input.chunks; b++) {
          if (idle(b) && p.has(b)) assert.ok(availability(input, b) >= availability(input, a.chunk), `rarest first: ${b} was rarer than ${a.chunk}`)
        }
      }
      for (let b = 0; b < input.chunks && !capped; b++) {
        if (!idle(b)) continue
        for (const p of input.peers) {
          if (p.banned !== true && p.has(b)) assert.ok(loadAfter(input, out, p.id) >= input.perPeerLimit, `chunk ${b} left idle while ${p.id} had room`)
        }
      }
      for (const a of out.filter(a => a.race === true)) {
        assert.ok(input.raceQueued === true && a.duplicate, 'races only when asked for')
        const others = input.inflight.filter(q => q.chunk === a.chunk)
        assert.ok(others.length > 0 && others.every(q => q.queued === true), 'a race only of requests that all wait in a queue')
      }
      for (let b = 0; b < input.chunks; b++) assert.ok([...input.inflight, ...out].filter(q => q.chunk === b).length <= Math.max(2, input.inflight.filter(q => q.chunk === b).length), 'at most two requests per chunk')
      const dups = out.filter(a => a.duplicate && a.race !== true)
      if (dups.length > 0) {
        assert.ok(input.endgame, 'duplicates only in endgame')
        for (let b = 0; b < input.chunks; b++) {
          const servable = availability(input, b) > 0 || input.registry !== undefined
          assert.ok(!idle(b) || !servable, 'endgame only when every servable chunk is requested')
        }
        for (const a of dups) assert.ok([...input.inflight, ...out].filter(q => q.chunk === a.chunk).length <= 2, 'at most two requests per chunk')
      }
    }), { numRuns: 500 })
  })
})
