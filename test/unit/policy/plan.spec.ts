import assert from 'node:assert/strict'
import fc from 'fast-check'
import { plan, roomOf, type PlanInput, type PlanIntents, type PlanNode, type PlanModel, type Placement } from '../../../src/policy/plan.js'

const GiB = 1024 ** 3
const noIntents = (): PlanIntents => ({ replicas: new Map(), pins: new Map(), migrations: new Map(), placements: new Map(), deleted: new Set() })

const node = (id: string, o: Partial<PlanNode> = {}, held: Record<string, string> = {}, size = 4 * GiB): PlanNode => ({
  id, liveness: 'alive', pastGrace: false, diskTotal: 1000 * GiB, diskFree: 500 * GiB, maxCache: 0, minFreeDisk: 0,
  models: new Map(Object.entries(held).map(([k, d]) => [k, { digest: d, size }])), ...o
})

const targetsOf = (ps: Placement[], model: string): string[] => ps.find(p => p.model === model)?.targets ?? []

/** Random clusters: 1-8 nodes with random liveness, room and holdings of 1-4 models, and random replica intents. */
const arbCluster = fc.record({
  nodes: fc.array(fc.record({
    liveness: fc.constantFrom('alive', 'alive', 'alive', 'suspect', 'gone'),
    pastGrace: fc.boolean(),
    freeGiB: fc.integer({ min: 0, max: 60 }),
    holds: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })
  }), { minLength: 1, maxLength: 8 }),
  sizes: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 4, maxLength: 4 }),
  replicas: fc.array(fc.option(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant('all' as const))), { minLength: 4, maxLength: 4 })
}).map(({ nodes, sizes, replicas }): PlanInput => {
  const models: PlanModel[] = sizes.map((s, i) => ({ key: `registry.ollama.ai/library/m${i}:latest`, digest: `sha256:${String(i).repeat(64)}`, size: s * GiB }))
  const intents = noIntents()
  replicas.forEach((r, i) => { if (r !== null) (intents.replicas as Map<string, number | 'all'>).set(models[i]!.key, r) })
  return {
    nodes: nodes.map((n, j) => ({
      id: `peer${j}`,
      liveness: n.liveness as PlanNode['liveness'],
      pastGrace: n.liveness === 'gone' && n.pastGrace,
      diskTotal: 100 * GiB,
      diskFree: n.freeGiB * GiB,
      maxCache: 0,
      minFreeDisk: 0,
      models: new Map(models.filter((_, i) => n.holds[i]).map(m => [m.key, { digest: m.digest, size: m.size }]))
    })),
    models,
    intents
  }
})

/** The plan after the nodes act on it: assigned nodes fetch (when they have room), others keep. */
function settle (input: PlanInput, ps: Placement[]): PlanInput {
  const nodes = input.nodes.map(n => {
    const models = new Map(n.models)
    let free = n.diskFree
    for (const p of ps) {
      if (p.targets.includes(n.id) && !models.has(p.model) && n.liveness === 'alive') { models.set(p.model, { digest: p.digest, size: p.size }); free -= p.size }
    }
    return { ...n, models, diskFree: free }
  })
  return { ...input, nodes }
}

describe('policy/plan', () => {
  it('keeps current holders first and fills the rest by weighted rendezvous among live nodes', () => {
    const m = 'registry.ollama.ai/library/llama3:latest'
    const d = `sha256:${'a'.repeat(64)}`
    const intents = noIntents()
    ;(intents.replicas as Map<string, number>).set(m, 2)
    const ps = plan({ nodes: [node('a', {}, { [m]: d }), node('b'), node('c'), node('d', { liveness: 'suspect' })], models: [{ key: m, digest: d, size: 4 * GiB }], intents })
    const t = targetsOf(ps, m)
    assert.equal(t.length, 2)
    assert.equal(t[0], 'a', 'the holder stays')
    assert.notEqual(t[1], 'd', 'a suspect node is never given new work')
  })

  it('leaves models without an intent alone, and a pin forces its node in', () => {
    const [m1, m2] = ['registry.ollama.ai/library/x:1', 'registry.ollama.ai/library/y:1']
    const d = `sha256:${'b'.repeat(64)}`
    const intents = noIntents()
    ;(intents.pins as Map<string, Set<string>>).set(m2, new Set(['c']))
    const ps = plan({ nodes: [node('a', {}, { [m1]: d, [m2]: d }), node('b'), node('c')], models: [{ key: m1, digest: d, size: GiB }, { key: m2, digest: d, size: GiB }], intents })
    assert.equal(ps.find(p => p.model === m1), undefined, 'no intent, no plan')
    assert.deepEqual(targetsOf(ps, m2).sort(), ['a', 'c'], 'the pin joins the existing holder')
  })

  it('a migration moves the copy from its source to its target', () => {
    const m = 'registry.ollama.ai/library/z:1'
    const d = `sha256:${'c'.repeat(64)}`
    const intents = noIntents()
    ;(intents.migrations as Map<string, { from: string, to: string }>).set(m, { from: 'a', to: 'c' })
    const ps = plan({ nodes: [node('a', {}, { [m]: d }), node('b'), node('c')], models: [{ key: m, digest: d, size: GiB }], intents })
    assert.deepEqual(targetsOf(ps, m), ['c'])
  })

  it('copies of a node gone past the grace stop counting; within the grace they still count', () => {
    const m = 'registry.ollama.ai/library/w:1'
    const d = `sha256:${'d'.repeat(64)}`
    const intents = noIntents()
    ;(intents.replicas as Map<string, number>).set(m, 1)
    const input = (pastGrace: boolean): PlanInput => ({ nodes: [node('a', { liveness: 'gone', pastGrace }, { [m]: d }), node('b'), node('c')], models: [{ key: m, digest: d, size: GiB }], intents })
    assert.deepEqual(targetsOf(plan(input(false)), m), ['a'])
    const after = targetsOf(plan(input(true)), m)
    assert.equal(after.length, 1)
    assert.notEqual(after[0], 'a')
  })

  it('never assigns a node past its free disk, cache limit or min-free-disk', () => {
    const m = 'registry.ollama.ai/library/big:1'
    const d = `sha256:${'e'.repeat(64)}`
    const intents = noIntents()
    ;(intents.replicas as Map<string, 'all'>).set(m, 'all')
    const ps = plan({
      nodes: [node('full', { diskFree: 3 * GiB }), node('capped', { maxCache: 2 * GiB }), node('reserve', { diskFree: 10 * GiB, minFreeDisk: 8 * GiB }), node('ok')],
      models: [{ key: m, digest: d, size: 4 * GiB }],
      intents
    })
    assert.deepEqual(targetsOf(ps, m), ['ok'])
  })

  it('passes over a node that said it has no room for the model, unless it holds it', () => {
    const m = 'registry.ollama.ai/library/big:1'
    const d = `sha256:${'e'.repeat(64)}`
    const intents = noIntents()
    ;(intents.replicas as Map<string, 'all'>).set(m, 'all')
    const ps = plan({
      nodes: [node('said', { noRoom: new Set([m]) }), node('other-model', { noRoom: new Set(['registry.ollama.ai/library/x:1']) }), node('holder', { noRoom: new Set([m]) }, { [m]: d })],
      models: [{ key: m, digest: d, size: 4 * GiB }],
      intents
    })
    assert.deepEqual(targetsOf(ps, m).sort(), ['holder', 'other-model'])
  })

  describe('properties', () => {
    it('is deterministic: the same state in any node order gives the same plan', () => {
      fc.assert(fc.property(arbCluster, fc.integer(), (input, seed) => {
        const shuffled = { ...input, nodes: [...input.nodes].sort((a, b) => ((a.id.charCodeAt(4) * 31 + seed) % 7) - ((b.id.charCodeAt(4) * 31 + seed) % 7)) }
        assert.deepEqual(plan(shuffled), plan(input))
      }))
    })

    it('never takes away the last copy that counts, and never plans past a disk limit', () => {
      fc.assert(fc.property(arbCluster, (input) => {
        const ps = plan(input)
        const planned = new Map<string, number>()
        for (const p of ps) {
          const holders = input.nodes.filter(n => !n.pastGrace && n.models.get(p.model)?.digest === p.digest)
          if (holders.length > 0) assert.ok(p.targets.some(t => holders.some(h => h.id === t)), `${p.model}: some current holder is kept`)
          for (const t of p.targets) {
            const n = input.nodes.find(x => x.id === t) as PlanNode
            if (!n.models.has(p.model)) planned.set(t, (planned.get(t) ?? 0) + p.size)
          }
        }
        for (const [id, bytes] of planned) assert.ok(roomOf(input.nodes.find(n => n.id === id) as PlanNode) >= bytes, `${id} is not filled past its room`)
        for (const p of ps) for (const t of p.targets) assert.notEqual(input.nodes.find(n => n.id === t)?.pastGrace, true, 'no work for a node gone past the grace')
      }))
    })

    it('with stable state, a second plan moves nothing', () => {
      fc.assert(fc.property(arbCluster, (input) => {
        const first = plan(input)
        const settled = settle(input, first)
        const second = plan(settled)
        for (const p of second) {
          const prev = first.find(x => x.model === p.model) as Placement
          assert.deepEqual([...p.targets].sort(), [...prev.targets].sort(), `${p.model} stays where it was planned`)
        }
      }))
    })

    it('after any sequence of node losses and returns, replicas converge to the target', () => {
      const m = 'registry.ollama.ai/library/conv:1'
      const d = `sha256:${'f'.repeat(64)}`
      fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 20 }), (replicas, events) => {
        const intents = noIntents()
        ;(intents.replicas as Map<string, number>).set(m, replicas)
        let input: PlanInput = { nodes: ['a', 'b', 'c', 'd', 'e', 'f'].map((id, i) => node(id, {}, i === 0 ? { [m]: d } : {})), models: [{ key: m, digest: d, size: GiB }], intents }
        const step = (): void => {
          const ps = plan(input)
          input = settle(input, ps)
          // Nodes not assigned drop their copy once enough assigned copies exist (the claim rule).
          const p = ps.find(x => x.model === m) as Placement
          const keepers = input.nodes.filter(n => p.targets.includes(n.id) && n.models.has(m) && n.liveness === 'alive')
          if (keepers.length >= p.replicas) input = { ...input, nodes: input.nodes.map(n => p.targets.includes(n.id) || n.liveness !== 'alive' ? n : { ...n, models: new Map() }) }
        }
        for (const [i, up] of events) {
          input = { ...input, nodes: input.nodes.map((n, j) => j === i ? { ...n, liveness: up ? 'alive' : 'gone', pastGrace: !up } : n) }
          step()
        }
        // Everyone back; a few rounds settle it.
        input = { ...input, nodes: input.nodes.map(n => ({ ...n, liveness: 'alive', pastGrace: false })) }
        for (let k = 0; k < 3; k++) step()
        const holders = input.nodes.filter(n => n.models.has(m)).length
        assert.equal(holders, replicas)
      }))
    })
  })
})
