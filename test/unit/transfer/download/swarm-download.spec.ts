import '../../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { isOllamadError, type ErrorCode } from '../../../../src/errors.js'
import { systemClock } from '../../../../src/util/clock.js'
import type { RateLimiter } from '../../../../src/util/rate-limit.js'
import { chunkCount, chunkSize, computeChunkMap, type PartialBlob } from '../../../../src/store/index.js'
import { createInOrderHasher } from '../../../../src/transfer/download/hasher.js'
import { createArrivals } from '../../../../src/transfer/serving/arrivals.js'
import { fetchFromSwarm } from '../../../../src/transfer/download/swarm-download.js'
import { REGISTRY } from '../../../../src/transfer/download/picker.js'
import { createBans } from '../../../../src/transfer/download/bans.js'
import type { PeerView } from '../../../../src/transfer/download/peer-state.js'
import type { ChunkSource, SwarmDownloadComponents, SwarmDownloadInit, SwarmResult } from '../../../../src/transfer/download/options.js'
import { makeBlob, sha256 } from '../../../fixtures/blob.js'
import { chunkOf } from '../../../fixtures/local-blobs.js'
import { withStore, type StoreEnv } from '../../../fixtures/store.js'
import { createTestSwarm, type TestSwarm } from '../../../fixtures/swarm.js'
import { createFakeClock } from '../../../fixtures/fake-clock.js'
import { waitFor } from '../../../fixtures/wait-for.js'

const MiB = 1024 * 1024
const CHUNK = chunkSize(16 * MiB)
/** Four chunks, the last one short. */
const blob = makeBlob(3 * CHUNK + 777, 'swarm-download')
const ALL = [0, 1, 2, 3]
const unlimited: RateLimiter = { take: async () => {}, reserve: () => 0 }

const failsWith = (code: ErrorCode) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  return true
}

describe('swarm download', function () {
  this.timeout(10_000)
  let env: StoreEnv
  let swarm: TestSwarm
  let partial: PartialBlob
  let chain: Uint8Array[]
  /** Releases reads that a test held back, so no handler is left hanging. */
  let releaseStalls: () => void
  let stalled: Promise<void>

  before(async () => {
    chain = (await computeChunkMap(async (buf, pos, len) => { buf.set(blob.data.subarray(pos, pos + len)); return Math.min(len, blob.size - pos) }, blob.size)).chain
  })
  beforeEach(async () => {
    assert.equal(chunkCount(blob.size), 4)
    env = await withStore()
    partial = await env.store().openPartial(blob.digest, blob.size)
    swarm = createTestSwarm()
    stalled = new Promise(resolve => { releaseStalls = resolve })
  })
  afterEach(async () => {
    releaseStalls()
    swarm.close()
    await partial.close()
    await env.cleanup()
  })

  /** Peers holding the given chunks of the blob. */
  const holders = (spec: Record<string, number[]>): void => {
    for (const [id, chunks] of Object.entries(spec)) swarm.add(id).local.add(blob, { chunks })
  }
  /** A download of `blob` over the test swarm; `o` overrides any collaborator or option. */
  const run = async (o: Partial<SwarmDownloadComponents & SwarmDownloadInit> = {}): Promise<SwarmResult & { from: Map<number, ChunkSource> }> => {
    const from = new Map<number, ChunkSource>()
    const { sources, limiter, clock = systemClock, bans, arrivals, log, ...init } = o
    const components: SwarmDownloadComponents = {
      sources: sources ?? { peers: [...swarm.peers.values()].map(p => p.view(blob.digest)), client: swarm.client(undefined, clock) },
      limiter: limiter ?? unlimited,
      clock,
      bans,
      arrivals,
      log
    }
    const res = await fetchFromSwarm(components, {
      partial,
      verify: { chain },
      seed: 7,
      ...init,
      onChunk: (i, s) => { from.set(i, s); o.onChunk?.(i, s) }
    })
    return { ...res, from }
  }
  const assertIntact = async (): Promise<void> => {
    assert.ok(partial.bitmap.full(), 'every chunk is marked done')
    assert.equal(sha256(await readFile(partial.path)), blob.digest)
  }
  const servedBy = (id: string): number[] => (swarm.peers.get(id)?.local.reads ?? []).map(r => r.index).sort()

  it('download when every peer has a different piece', async () => {
    holders({ a: [0], b: [1], c: [2], d: [3] })
    const hasher = createInOrderHasher(partial)
    let limited = 0
    const res = await run({ limiter: { take: async () => { assert.fail('downloads reserve, they do not take') }, reserve: (n) => { limited += n; return 0 } }, onChunk: () => { hasher.kick() } })
    await assertIntact()
    assert.equal(`sha256:${await hasher.finish()}`, blob.digest)
    assert.deepEqual([servedBy('a'), servedBy('b'), servedBy('c'), servedBy('d')], [[0], [1], [2], [3]])
    assert.equal(res.fromPeers, 4)
    assert.equal(res.unverified.size, 0)
    assert.equal(limited, blob.size, 'every byte from peers passes the download cap')
    assert.ok([...res.from.values()].every(s => s.checked === 'map'))
  })

  it('shows each chunk from a peer as arriving while it comes, and another peer takes it through us as it comes', async () => {
    holders({ a: ALL })
    // A second node downloads through us: its requests find our chunks while they arrive.
    const arrivals = createArrivals()
    const us = swarm.add('us')
    us.local.add(blob, { chunks: [] })
    us.local.arrival = (d, i) => arrivals.get(d, i)
    const relayed: Array<Promise<Uint8Array>> = []
    const seen = new Set<number>()
    arrivals.onChange(() => {
      for (const i of arrivals.arriving(blob.digest)) {
        if (seen.has(i)) continue
        seen.add(i)
        relayed.push(swarm.client().chunk('us', blob.digest, i, chunkOf(blob.data, i).byteLength))
      }
    })
    await run({ sources: { peers: [swarm.peers.get('a')?.view(blob.digest) as PeerView], client: swarm.client() }, arrivals })
    await assertIntact()
    assert.deepEqual([...seen].sort(), ALL, 'every chunk was shown arriving')
    assert.deepEqual(arrivals.arriving(blob.digest), [])
    const got = await Promise.all(relayed)
    assert.equal(got.length, 4)
    for (const [k, i] of [...seen].entries()) assert.deepEqual(Buffer.from(got[k] as Uint8Array), Buffer.from(chunkOf(blob.data, i)), `chunk ${i} relayed intact`)
  })

  it('while many download, a first holder sends only what no other downloader can pass on', async () => {
    holders({ seed: ALL, 'a-other': [0, 1, 2] })
    // Downloaders in id order are a-other and b-me: chunks 1 and 3 are b-me's share.
    await run({ selfId: 'b-me', endgame: false, inflightPerPeer: 1 })
    await assertIntact()
    assert.deepEqual(servedBy('seed'), [3], 'the seed sends the one chunk nobody else has')
    assert.deepEqual(servedBy('a-other'), [0, 1, 2])
  })

  it('asks for the next chunk while the disk still writes the last one, up to a backlog, and returns only once every write is done', async () => {
    holders({ a: ALL })
    // Writes wait until the test lets them go: a slow disk.
    const held: Array<() => void> = []
    const write = partial.write
    partial.write = async (data, position, o) => {
      await new Promise<void>(resolve => { held.push(resolve) })
      await write(data, position, o)
    }
    let returned = false
    const done = run({ inflightPerPeer: 1, endgame: false }).then(r => { returned = true; return r })
    // One request at a time to a: three chunks came while no write was done, then no more are asked for.
    await waitFor(() => held.length === 3, 5000, 'three chunks waiting for the disk')
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(servedBy('a').length, 3, 'no fourth request while three chunks wait for the disk')
    assert.equal(partial.bitmap.missing().length, 4, 'no chunk counts as done before it is written')
    held.shift()?.()
    await waitFor(() => held.length === 3, 5000, 'the fourth chunk once one write is done')
    assert.deepEqual(servedBy('a'), ALL)
    for (const go of held.splice(0, 2)) go()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(returned, false, 'the download waits for the last write')
    held.splice(0).forEach(go => { go() })
    const res = await done
    await assertIntact()
    assert.equal(res.fromPeers, 4)
  })

  it('stopped while a chunk is being written, returns only once the write is done, and writes nothing after', async () => {
    holders({ a: ALL })
    const held: Array<() => void> = []
    let writes = 0
    const write = partial.write
    partial.write = async (data, position, o) => {
      await new Promise<void>(resolve => { held.push(resolve) })
      await write(data, position, o)
      writes++
    }
    const ac = new AbortController()
    let returned = false
    const done = run({ inflightPerPeer: 1, endgame: false, signal: ac.signal }).finally(() => { returned = true })
    await waitFor(() => held.length === 2, 5000, 'two chunks waiting for the disk')
    ac.abort(new Error('the client left'))
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(returned, false, 'a write in flight holds the download open')
    held.splice(0).forEach(go => { go() })
    await assert.rejects(done, failsWith('ABORTED'))
    const after = writes
    held.splice(0).forEach(go => { go() })
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(held.length, 0, 'no write starts after the download returned')
    assert.equal(writes, after)
  })

  it('a failed write stops the download with the disk error, and bans no peer', async () => {
    holders({ a: ALL })
    partial.write = async () => { throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }) }
    let banned = 0
    await assert.rejects(run({ bans: createBans(systemClock, () => { banned++ }) }), /EIO/)
    assert.equal(banned, 0, 'the disk failed, not the peer')
    assert.equal(partial.bitmap.missing().length, 4)
  })

  it('rarest chunk first', async () => {
    holders({ a: ALL, b: [0, 1, 2] })
    await run({ inflightPerPeer: 1 })
    await assertIntact()
    assert.equal(swarm.peers.get('a')?.local.reads[0]?.index, 3, 'the chunk only a holds is asked of a first')
  })

  it('a peer goes away mid-transfer', async () => {
    let sent = 0
    let killed = false
    const dying: RateLimiter = { take: async (n) => { sent += n; if (sent > MiB && !killed) { killed = true; swarm.peers.get('a')?.kill() } }, reserve: () => 0 }
    swarm.add('a', { limiter: dying }).local.add(blob)
    swarm.add('b').local.add(blob)
    const res = await run({ endgame: false })
    await assertIntact()
    assert.ok(killed, 'a died while sending')
    // Only the 777-byte last chunk can have left a before it died.
    const cut = servedBy('a').filter(i => i !== 3)
    assert.ok(cut.length > 0, 'a was sending a full chunk')
    for (const i of cut) assert.equal(res.from.get(i)?.source, 'b', `chunk ${i} went to b`)
    assert.deepEqual(res.banned, [], 'going away is no offence')
  })

  it('a peer serves corrupt chunks: banned, download still correct', async () => {
    swarm.add('rotten').local.add(blob, { corrupt: ALL })
    swarm.add('good').local.add(blob)
    const res = await run()
    await assertIntact()
    assert.ok(servedBy('rotten').length > 0, 'the rotten peer was asked')
    assert.deepEqual(res.banned, ['rotten'])
    assert.ok([...res.from.values()].every(s => s.source === 'good'))
  })

  it('without a chunk map, a chunk that differs from its announced hash bans its peer', async () => {
    // Chunk 1 is rarest (only on the rotten peer), so it is asked of that peer first.
    swarm.add('rotten').local.add(blob, { corrupt: [1] })
    swarm.add('good').local.add(blob, { chunks: [0, 2, 3] })
    const peers = ['rotten', 'good'].map(id => swarm.peers.get(id)?.view(blob.digest, { announce: 'honest' }) as PeerView)
    const registryFetch = async (i: number): Promise<Uint8Array> => chunkOf(blob.data, i)
    const res = await run({ verify: {}, inflightPerPeer: 1, sources: { peers, client: swarm.client(), registryFetch } })
    await assertIntact()
    assert.deepEqual(res.banned, ['rotten'])
    assert.equal(res.from.get(1)?.source, REGISTRY, 'the banned peer\'s chunk comes from the registry')
    assert.equal(res.from.get(1)?.checked, 'none')
    for (const [i, s] of res.from) assert.equal(res.unverified.get(i), s.source === REGISTRY ? undefined : s.source, 'peer chunks are reported as taken without a map')
  })

  it('without a chunk map, a liar that announces its own bad hash is reported for the whole-blob check', async () => {
    swarm.add('liar').local.add(blob, { corrupt: [2] })
    const peers = [swarm.peers.get('liar')?.view(blob.digest, { announce: 'as-served' }) as PeerView]
    const res = await run({ verify: {}, sources: { peers, client: swarm.client() } })
    assert.notEqual(sha256(await readFile(partial.path)), blob.digest, 'the whole-blob hash catches it')
    assert.equal(res.unverified.get(2), 'liar', 'so the caller knows which chunks to fetch again from the registry')
  })

  it('endgame finishes the last chunks from a second peer when the first stalls', async () => {
    holders({ stuck: ALL, quick: ALL })
    const stuck = swarm.peers.get('stuck')
    assert.ok(stuck !== undefined)
    stuck.local.beforeRead = async () => { await stalled }
    const res = await run({ timeoutMs: 60_000 })
    await assertIntact()
    assert.ok(servedBy('stuck').length > 0, 'the stuck peer was asked')
    assert.ok([...res.from.values()].every(s => s.source === 'quick'))
  })

  it('asks a second holder for a chunk that waits in a full upload queue, and withdraws the queued request', async () => {
    const busy = swarm.add('busy', { server: { uploadSlots: 1, slotWaitMs: 60_000 } })
    busy.local.add(blob, { chunks: ALL })
    holders({ free: ALL })
    let first = true
    busy.local.beforeRead = async () => { if (first) { first = false; await stalled } }
    // Someone else's request holds busy's only upload slot for the whole test.
    const ac = new AbortController()
    const blocker = swarm.client().chunk('busy', blob.digest, 3, blob.size - 3 * CHUNK, { signal: ac.signal }).catch(() => {})
    await waitFor(() => busy.local.reads.length === 1, 5000, 'the blocker to take the only slot')
    const res = await run({ endgame: false, inflightPerPeer: 2 })
    await assertIntact()
    assert.ok(busy.dials > 1, 'busy was asked for chunks too')
    assert.ok([...res.from.values()].every(s => s.source === 'free'))
    assert.deepEqual(servedBy('busy'), [3], 'busy sent nothing but the blocker\'s chunk')
    await waitFor(() => busy.handler.active() === 1, 5000, 'the queued requests to be withdrawn')
    ac.abort()
    await blocker
  })

  it('a peer that times out is rested and its chunks go to another', async () => {
    const clock = createFakeClock()
    holders({ stuck: ALL, quick: ALL })
    const stuck = swarm.peers.get('stuck')
    assert.ok(stuck !== undefined)
    stuck.local.beforeRead = async () => { await stalled }
    const done = run({ clock, timeoutMs: 5_000, endgame: false })
    await waitFor(() => stuck.local.reads.length > 0 && partial.bitmap.count() + stuck.local.reads.length === 4, 5000, 'quick to finish its share')
    clock.advance(5_000)
    const res = await done
    await assertIntact()
    assert.ok([...res.from.values()].every(s => s.source === 'quick'))
    assert.deepEqual(res.banned, [])
  })

  it('chunks no peer holds come from the registry', async () => {
    holders({ a: [0, 1] })
    const asked: number[] = []
    const registryFetch = async (i: number): Promise<Uint8Array> => { asked.push(i); return chunkOf(blob.data, i) }
    const res = await run({ sources: { peers: [swarm.peers.get('a')?.view(blob.digest) as PeerView], client: swarm.client(), registryFetch } })
    await assertIntact()
    assert.deepEqual(asked.sort(), [2, 3])
    assert.equal(res.fromRegistry, 2)
    assert.equal(res.from.get(2)?.source, REGISTRY)
  })

  it('air-gapped: a busy only holder rests, and its chunks wait for it rather than fail on the registry', async () => {
    // One stream at a time: a second request is answered BUSY and the peer rests for a second.
    swarm.add('only', { server: { maxConcurrent: 1 } }).local.add(blob)
    let registryCalls = 0
    const registryFetch = async (): Promise<Uint8Array> => { registryCalls++; throw new Error('registry unreachable') }
    const res = await run({
      inflightPerPeer: 2,
      registryRetries: 0,
      sources: { peers: [swarm.peers.get('only')?.view(blob.digest) as PeerView], client: swarm.client(), registryFetch }
    })
    await assertIntact()
    assert.equal(res.fromPeers, 4)
    assert.ok(registryCalls > 0, 'the registry was tried while the holder rested')
  })

  it('a stale bitmap costs one refusal, and a fresh bitmap finds the chunk elsewhere', async () => {
    holders({ stale: [0, 1], b: ALL })
    const claims = (id: string, chunks: number[]): PeerView => {
      const v = swarm.peers.get(id)?.view(blob.digest) as PeerView
      for (const i of ALL) v.bitmap.set(i, chunks.includes(i))
      return v
    }
    // The views are out of date both ways: chunk 3 looks rarest, held only by `stale`.
    const peers = [claims('stale', ALL), claims('b', [0, 1, 2])]
    const res = await run({ sources: { peers, client: swarm.client() } })
    await assertIntact()
    assert.ok((swarm.peers.get('stale')?.dials ?? 0) > servedBy('stale').length, 'stale refused a chunk')
    assert.equal(res.from.get(3)?.source, 'b')
    assert.deepEqual(res.banned, [])
  })

  it('resumes: only the missing chunks are fetched', async () => {
    for (const i of [0, 2]) { await partial.write(chunkOf(blob.data, i), i * CHUNK); await partial.markDone(i) }
    holders({ a: ALL })
    await run()
    await assertIntact()
    assert.deepEqual(servedBy('a'), [1, 3])
  })

  it('stops when aborted, with no write after it returns', async () => {
    holders({ stuck: ALL })
    const stuck = swarm.peers.get('stuck')
    assert.ok(stuck !== undefined)
    stuck.local.beforeRead = async () => { await stalled }
    const ac = new AbortController()
    const p = run({ signal: ac.signal })
    await waitFor(() => stuck.local.reads.length > 0, 5000, 'a request')
    ac.abort()
    await assert.rejects(p, failsWith('ABORTED'))
    assert.equal(partial.bitmap.count(), 0)
  })

  it('fails when nobody can serve a chunk', async () => {
    holders({ a: ALL })
    const a = swarm.peers.get('a')
    a?.kill()
    const clock = createFakeClock()
    const p = run({ clock, stuckTimeoutMs: 10_000 })
    let settled = false
    p.then(() => { settled = true }, () => { settled = true })
    while (!settled) { clock.advance(1_000); await new Promise(resolve => setImmediate(resolve)) }
    await assert.rejects(p, failsWith('BLOB_NOT_FOUND'))
  })
})
