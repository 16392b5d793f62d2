import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createHlc, createIntentStore, hlcFrom, hlcPhysical, signIntent, verifyIntent, Intent, type IntentStore } from '../../../src/cluster/index.js'
import { openStateDb } from '../../../src/store/db.js'
import { tempDir } from '../../fixtures/daemon.js'
import { isOllamadError } from '../../../src/errors.js'

const M = 'registry.ollama.ai/library/llama3:latest'

interface Writer { id: string, key: PrivateKey, store: IntentStore, wall: { now: number } }

async function writer (db?: Awaited<ReturnType<typeof openStateDb>>, isMember?: (peerId: string) => boolean): Promise<Writer> {
  const key = await generateKeyPair('Ed25519')
  const id = peerIdFromPrivateKey(key).toString()
  const wall = { now: 1_700_000_000_000 }
  return { id, key, wall, store: createIntentStore({ selfId: id, privateKey: key, hlc: createHlc(() => wall.now), db, isMember }) }
}

/** Delivers every intent of `from` to `to`, as gossip would. */
async function deliver (from: Writer, to: Writer): Promise<void> {
  for (const e of from.store.entries()) to.store.merge(e.signed, await verifyIntent(e.signed))
}

describe('cluster/hlc', () => {
  it('follows the wall clock, stays monotonic when it stalls or steps back, and orders after what it saw', () => {
    let wall = 1000
    const h = createHlc(() => wall)
    const a = h.now()
    assert.equal(hlcPhysical(a), 1000)
    const b = h.now()
    assert.ok(b > a, 'same ms: the counter moves')
    wall = 900
    assert.ok(h.now() > b, 'a clock stepping back does not go back')
    h.observe(hlcFrom(5000, 3))
    assert.ok(h.now() > hlcFrom(5000, 3), 'a later remote stamp moves it forward')
  })

  it('refuses a remote stamp far ahead of local time', () => {
    const h = createHlc(() => 1000, 30_000)
    assert.throws(() => { h.observe(hlcFrom(1000 + 31_000)) }, /ahead of this node's clock/)
    h.observe(hlcFrom(1000 + 29_000))
  })
})

describe('cluster/intents', () => {
  it('last writer wins by HLC, whatever order the writes arrive in', async () => {
    const [a, b, c] = [await writer(), await writer(), await writer()]
    await a.store.write({ kind: 'replicas', model: M, replicas: 2 })
    b.wall.now += 10
    await deliver(a, b)
    await b.store.write({ kind: 'replicas', model: M, replicas: 3 })
    // c hears b's later write first, then a's older one: the older one must not win.
    await deliver(b, c)
    await deliver(a, c)
    for (const w of [b, c]) assert.deepEqual(w.store.bodies('replicas'), [{ kind: 'replicas', model: M, replicas: 3 }])
    await deliver(b, a)
    assert.deepEqual(a.store.bodies('replicas'), [{ kind: 'replicas', model: M, replicas: 3 }])
  })

  it('a writer that saw a stamp writes after it, even with a slower clock', async () => {
    const [fast, slow] = [await writer(), await writer()]
    fast.wall.now += 20_000
    await fast.store.write({ kind: 'replicas', model: M, replicas: 5 })
    await deliver(fast, slow)
    await slow.store.write({ kind: 'replicas', model: M, replicas: 1 })
    await deliver(slow, fast)
    assert.deepEqual(fast.store.bodies('replicas')[0]?.replicas, 1, 'the causally later write wins')
  })

  it('equal stamps break by writer id, the same on every node', async () => {
    const [a, b] = [await writer(), await writer()]
    const stamp = hlcFrom(a.wall.now)
    const mk = async (w: Writer, n: number): Promise<Intent> => ({ key: `replicas/${M}`, value: JSON.stringify({ replicas: n }), hlc: stamp, writer: w.id })
    const ia = await mk(a, 1)
    const ib = await mk(b, 2)
    const sa = await signIntent(a.key, ia)
    const sb = await signIntent(b.key, ib)
    const winner = a.id > b.id ? 1 : 2
    a.store.merge(sb, ib); a.store.merge(sa, ia)
    b.store.merge(sa, ia); b.store.merge(sb, ib)
    assert.equal(a.store.bodies('replicas')[0]?.replicas, winner)
    assert.equal(b.store.bodies('replicas')[0]?.replicas, winner)
  })

  it('a tombstone clears a key and a later write sets it again', async () => {
    const a = await writer()
    await a.store.write({ kind: 'pin', model: M, node: a.id })
    assert.equal(a.store.bodies('pin').length, 1)
    await a.store.write({ tombstone: `pin/${M}/${a.id}` })
    assert.equal(a.store.bodies('pin').length, 0)
    assert.ok(a.store.get(`pin/${M}/${a.id}`) !== undefined, 'the tombstone itself is kept, so an older pin cannot come back')
    await a.store.write({ kind: 'pin', model: M, node: a.id })
    assert.equal(a.store.bodies('pin').length, 1)
  })

  it('refuses forged, malformed and non-canonical intents', async () => {
    const [a, b] = [await writer(), await writer()]
    const forged = await signIntent(b.key, { key: `replicas/${M}`, value: '{"replicas":2}', hlc: 1n, writer: a.id })
    await assert.rejects(verifyIntent(forged), /not by its author/)
    for (const [key, value] of [[`replicas/${M}`, '{"replicas":0}'], [`replicas/${M}`, 'not json'], ['replicas/../../etc', '{"replicas":1}'], [`replicas/Registry.Ollama.ai/library/llama3:latest`, '{"replicas":1}'], ['nope/x', '{}'], [`migrate/${M}`, JSON.stringify({ from: a.id, to: a.id })]] as Array<[string, string]>) {
      const s = await signIntent(a.key, { key, value, hlc: 1n, writer: a.id })
      await assert.rejects(verifyIntent(s), /invalid intent/, `${key} ${value}`)
    }
  })

  it('digests equal sets alike whatever order they arrived in, and tells different sets apart', async () => {
    const [a, b, c] = [await writer(), await writer(), await writer()]
    const empty = Buffer.from(c.store.digest()).toString('hex')
    await a.store.write({ kind: 'replicas', model: M, replicas: 2 })
    await a.store.write({ kind: 'pin', model: M, node: b.id })
    await b.store.write({ kind: 'replicas', model: `${M}x`, replicas: 1 })
    await deliver(a, c)
    await deliver(b, c)
    await deliver(b, a)
    const hex = (w: Writer): string => Buffer.from(w.store.digest()).toString('hex')
    assert.equal(hex(a), hex(c), 'same set, other order')
    assert.notEqual(hex(b), hex(a), 'b lacks two of them')
    assert.notEqual(hex(c), empty)
    await deliver(a, b)
    assert.equal(hex(b), hex(a))
    // A newer write of the same key changes the digest, though the set of keys is the same.
    await a.store.write({ kind: 'replicas', model: M, replicas: 3 })
    assert.notEqual(hex(a), hex(b))
  })

  it('keeps intents across a restart', async () => {
    const dir = await tempDir('intents')
    const db = await openStateDb(dir)
    const a = await writer(db)
    await a.store.write({ kind: 'replicas', model: M, replicas: 'all' })
    await new Promise(resolve => setTimeout(resolve, 50))
    const again = createIntentStore({ selfId: a.id, privateKey: a.key, hlc: createHlc(() => a.wall.now), db })
    await again.load()
    assert.deepEqual(again.bodies('replicas'), [{ kind: 'replicas', model: M, replicas: 'all' }])
    await db.close()
  })
})

describe('cluster/intents: who may write, how much, and for how long', () => {
  const fails = (code: string, re: RegExp) => (e: unknown): boolean => {
    assert.ok(isOllamadError(e), String(e))
    assert.equal(e.code, code)
    assert.match(e.message, re)
    return true
  }

  it('refuses intents of a writer without a node record, and takes them once it has one; its own always', async () => {
    const members = new Set<string>()
    const a = await writer(undefined, (p) => members.has(p))
    const stranger = await writer()
    const signed = await stranger.store.write({ kind: 'delete', model: M, digests: ['cd'.repeat(32)] })
    assert.throws(() => a.store.merge(signed, Intent.decode(signed.intent)), fails('FORBIDDEN', /has no node record here/))
    assert.equal(a.store.get(`delete/${M}`), undefined)
    members.add(stranger.id)
    assert.equal(a.store.merge(signed, Intent.decode(signed.intent)), true)
    await a.store.write({ kind: 'replicas', model: M, replicas: 2 })
    assert.equal(a.store.bodies('replicas').length, 1)
  })

  it('limits how fast and how much one other writer adds, and never refuses this node\'s own writes', async () => {
    const a = await writer()
    const b = await writer()
    const intents = []
    for (let i = 0; i < 2_001; i++) intents.push(await b.store.write({ kind: 'replicas', model: `registry.ollama.ai/library/m${i}:latest`, replicas: 1 }))
    for (const s of intents.slice(0, 2_000)) a.store.merge(s, Intent.decode(s.intent))
    const last = intents[2_000] as (typeof intents)[number]
    assert.throws(() => a.store.merge(last, Intent.decode(last.intent)), fails('SIZE_LIMIT', /faster than 20 a second/))
    a.wall.now += 60_000
    assert.equal(a.store.merge(last, Intent.decode(last.intent)), true)
    // Slowly, up to its cap of held intents and no further; replacing one of its own still works.
    for (let i = 2_001; i < 4_001; i++) intents.push(await b.store.write({ kind: 'replicas', model: `registry.ollama.ai/library/m${i}:latest`, replicas: 1 }))
    for (const s of intents.slice(2_001, 4_000)) { a.wall.now += 100; a.store.merge(s, Intent.decode(s.intent)) }
    const over = intents[4_000] as (typeof intents)[number]
    assert.throws(() => a.store.merge(over, Intent.decode(over.intent)), fails('SIZE_LIMIT', /holds 4000 intents here already/))
    const again = await b.store.write({ kind: 'replicas', model: 'registry.ollama.ai/library/m0:latest', replicas: 3 })
    assert.equal(a.store.merge(again, Intent.decode(again.intent)), true)
    for (let i = 0; i < 3; i++) await a.store.write({ kind: 'replicas', model: `registry.ollama.ai/library/own${i}:latest`, replicas: 1 })
    assert.equal(a.store.entries().length, 4_003)
  })

  it('drops old tombstones and finished jobs everywhere, and takes no expired ones back', async () => {
    const a = await writer()
    const b = await writer()
    await a.store.write({ kind: 'pin', model: M, node: b.id })
    const tomb = await a.store.write({ tombstone: `pin/${M}/${b.id}` })
    const job = await a.store.write({ kind: 'job', id: 'abcd1234', model: M, targets: [], insecure: false, createdAt: a.wall.now, cancelled: false })
    await deliver(a, b)
    assert.equal(b.store.entries().length, 2)
    for (const w of [a, b]) w.wall.now += 3 * 24 * 3600_000
    assert.equal(a.store.collect(), 1, 'the job is collected after two days')
    assert.equal(b.store.collect(), 1)
    assert.equal(b.store.merge(job, Intent.decode(job.intent)), false, 'an expired job is not taken back')
    for (const w of [a, b]) w.wall.now += 5 * 24 * 3600_000
    assert.equal(a.store.collect(), 1, 'the tombstone is collected after a week')
    assert.equal(b.store.collect(), 1)
    assert.equal(b.store.merge(tomb, Intent.decode(tomb.intent)), false)
    assert.deepEqual(a.store.digest(), b.store.digest())
    assert.equal(a.store.entries().length, 0)
  })
})
