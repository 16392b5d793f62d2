import assert from 'node:assert/strict'
import { createClusterState, type ClusterState, type NodeRecord } from '../../../../src/cluster/index.js'
import { chunkCount, chunkSize, digestHex, parseModelName, type ChunkMapStore } from '../../../../src/store/index.js'
import { createBans } from '../../../../src/transfer/download/bans.js'
import { encodeHoldings } from '../../../../src/transfer/holdings/record.js'
import { OWNER_TAKEOVER_MS, ownerOrder } from '../../../../src/transfer/holdings/registry-owner.js'
import { createSwarmAccess, noSwarm, type SwarmAccess } from '../../../../src/transfer/holdings/swarm-access.js'
import type { BlobClient } from '../../../../src/transfer/protocol/client.js'
import { Bitmap } from '../../../../src/util/bitmap.js'
import { OllamadError, isOllamadError } from '../../../../src/errors.js'
import { makeBlob } from '../../../fixtures/blob.js'
import { createFakeClock, type FakeClock } from '../../../fixtures/fake-clock.js'
import { blankRecord } from '../../../fixtures/records.js'

const MiB = 1024 * 1024
const blob = makeBlob(4 * chunkSize(16 * MiB), 'swarm-access')
const CHUNKS = chunkCount(blob.size)
const SELF = 'self'
const noMaps = { cid: () => undefined } as unknown as ChunkMapStore
const noClient = {} as unknown as BlobClient
const noSig = { record: new Uint8Array(0), signature: new Uint8Array(0), publicKey: new Uint8Array(0) }

describe('transfer/holdings/swarm-access', () => {
  let clock: FakeClock
  let state: ClusterState
  let access: SwarmAccess
  const seq = new Map<string, bigint>()
  /** A record from `peer` showing it holds `chunks` of the blob (or nothing). */
  const hear = (peer: string, chunks: number[] | 'all' | undefined, o: Partial<NodeRecord> = {}): void => {
    const bitmap = new Bitmap(CHUNKS)
    for (const i of chunks === 'all' || chunks === undefined ? [] : chunks) bitmap.set(i)
    const partials = chunks === undefined ? [] : [{ digest: blob.digest, size: blob.size, bitmap, arriving: [] }]
    const held = encodeHoldings({ models: [], partials, mapCid: () => undefined, vramEstimate: () => 0 })
    const blobs = chunks === 'all' ? [{ ...held.blobs[0] as NonNullable<typeof held.blobs[0]>, complete: true, bitmap: new Uint8Array(0) }] : held.blobs
    const sequence = (seq.get(peer) ?? 0n) + 1n
    seq.set(peer, sequence)
    state.merge(noSig, blankRecord({ peerId: peer, sequence, blobs, ...o }))
  }
  beforeEach(() => {
    clock = createFakeClock()
    state = createClusterState(clock, { selfId: SELF, suspectAfterMs: 10_000, goneAfterMs: 30_000 })
    access = createSwarmAccess({ state, client: noClient, maps: noMaps, bans: createBans(clock), clock })
    seq.clear()
  })

  it('shows the live holders of a blob, whole or in part, and not this node', () => {
    hear('a', 'all')
    hear('b', [0, 2])
    hear('c', undefined)
    hear(SELF, 'all')
    const views = access.peersFor(blob.digest, blob.size)
    assert.deepEqual(views.map(v => [v.id, v.bitmap.count()]).sort(), [['a', CHUNKS], ['b', 2]])
    assert.deepEqual(access.peersFor(blob.digest, blob.size + 1), [], 'another size is another blob')
    clock.advance(30_000)
    assert.deepEqual(access.peersFor(blob.digest, blob.size), [], 'gone nodes are no source')
  })

  it('shows each holder as its newest record says, and the same view while that record stands', () => {
    hear('b', [0])
    const first = access.peersFor(blob.digest, blob.size)
    assert.equal(access.peersFor(blob.digest, blob.size)[0], first[0], 'one view per record')
    hear('b', [0, 1, 3])
    const [b] = access.peersFor(blob.digest, blob.size)
    assert.deepEqual([0, 1, 2, 3].map(i => b?.bitmap.get(i)), [true, true, false, true], 'a new record, a new view')
    assert.equal(first[0]?.bitmap.count(), 1, 'the old view unchanged')
    hear('b', undefined)
    assert.deepEqual(access.peersFor(blob.digest, blob.size), [], 'a record that no longer shows the blob')
  })

  it('counts the other live nodes that hold a chunk, whole or arriving there', () => {
    hear('a', 'all')
    hear('b', [0, 2])
    const arriving = encodeHoldings({ models: [], partials: [{ digest: blob.digest, size: blob.size, bitmap: new Bitmap(CHUNKS), arriving: [3] }], mapCid: () => undefined, vramEstimate: () => 0 })
    state.merge(noSig, blankRecord({ peerId: 'c', sequence: 1n, blobs: arriving.blobs }))
    hear(SELF, 'all')
    assert.deepEqual([0, 1, 2, 3].map(i => access.chunkHolders(blob.digest, i)), [2, 1, 2, 2])
    assert.equal(access.chunkHolders(blob.digest, CHUNKS), 0, 'past the last chunk')
    assert.equal(access.chunkHolders(makeBlob(10, 'other').digest, 0), 0, 'another blob')
    clock.advance(30_000)
    assert.equal(access.chunkHolders(blob.digest, 0), 0, 'gone nodes hold nothing')
  })

  it('an upstream owner that stops growing its copy is passed over after the takeover time, with the fake clock', () => {
    // A chunk that the other target owns first.
    const index = [...Array(CHUNKS).keys()].find(i => ownerOrder(blob.digest, i, [SELF, 'a'])[0] === 'a') as number
    assert.ok(index !== undefined)
    const targets = [SELF, 'a']
    hear('a', [])
    assert.equal(access.registryOwner?.(blob.digest, blob.size, index, targets), false, 'a owns it while it works')
    clock.advance(OWNER_TAKEOVER_MS - 1)
    hear('a', [])
    assert.equal(access.registryOwner?.(blob.digest, blob.size, index, targets), false, 'a record with no growth is no sign of work, but the time has not run out')
    clock.advance(1)
    assert.equal(access.registryOwner?.(blob.digest, blob.size, index, targets), true, 'a stalled owner is passed over')
    hear('a', [index === 0 ? 1 : 0])
    assert.equal(access.registryOwner?.(blob.digest, blob.size, index, targets), false, 'its copy grew: it owns the chunk again')
    clock.advance(30_000)
    hear('b', [])
    assert.equal(access.registryOwner?.(blob.digest, blob.size, index, targets), true, 'a gone owner is passed over at once')
  })

  it('takes a name\'s manifest from the holder of the digest pulled most recently', async () => {
    const older = `sha256:${'11'.repeat(32)}`
    const newer = `sha256:${'22'.repeat(32)}`
    const asked: string[] = []
    const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:' + 'cd'.repeat(32) + '","size":2},"layers":[]}')
    const client = { manifest: async (peer: string, d: string) => { asked.push(`${peer}@${d}`); return manifest } } as unknown as BlobClient
    access = createSwarmAccess({ state, client, maps: noMaps, bans: createBans(clock), clock })
    const held = (digest: string, pulledAt: bigint): NodeRecord['models'] => [{ name: 'registry.ollama.ai/library/llama3:latest', manifestDigest: new Uint8Array(Buffer.from(digestHex(digest as never), 'hex')), size: 2n, pulledAt, vramEstimate: 0n }]
    hear('a', undefined, { models: held(older, 1n) })
    hear('b', undefined, { models: held(newer, 2n) })
    const got = await access.manifestFor(parseModelName('llama3'))
    assert.equal(got?.digest, newer)
    assert.deepEqual(asked, [`b@${newer}`])
    assert.equal(await access.manifestFor(parseModelName('other')), undefined, 'nobody holds it')
  })

  describe('a manifest from holders that may be busy, with the fake clock', () => {
    const digest = `sha256:${'33'.repeat(32)}`
    const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:' + 'cd'.repeat(32) + '","size":2},"layers":[]}')
    const holding = (): NodeRecord['models'] => [{ name: 'registry.ollama.ai/library/llama3:latest', manifestDigest: new Uint8Array(Buffer.from(digestHex(digest as never), 'hex')), size: 2n, pulledAt: 1n, vramEstimate: 0n }]
    /** Each peer's answers in turn (an error to throw, or the manifest); the last one repeats. */
    const withAnswers = (answers: Record<string, Array<Error | 'ok'>>): string[] => {
      const asked: string[] = []
      const client = {
        manifest: async (peer: string) => {
          asked.push(peer)
          const list = answers[peer] as Array<Error | 'ok'>
          const a = list.length > 1 ? list.shift() : list[0]
          if (a instanceof Error) throw a
          return manifest
        }
      } as unknown as BlobClient
      access = createSwarmAccess({ state, client, maps: noMaps, bans: createBans(clock), clock }, { manifestRetryMs: 5_000 })
      for (const peer of Object.keys(answers)) hear(peer, undefined, { models: holding() })
      return asked
    }
    const busy = (): Error => new OllamadError('PEER_BUSY', 'busy')
    /** Runs `p` to its end, moving the fake clock on whenever it waits for a timer. */
    const drive = async <T>(p: Promise<T>): Promise<T> => {
      let done = false
      void p.finally(() => { done = true }).catch(() => {})
      for (let turns = 0; !done; turns++) {
        assert.ok(turns < 1000, 'the promise waits on something other than the clock')
        await new Promise(resolve => setImmediate(resolve))
        if (!done) clock.advance(clock.nextIn() ?? 0)
      }
      return await p
    }

    it('asks again while it is busy or unreachable, in waits that double, until it answers', async () => {
      const asked = withAnswers({ a: [busy(), new OllamadError('PEER_UNAVAILABLE', 'a closed the data connection'), 'ok'] })
      const started = clock.now()
      const got = await drive(access.manifestFor(parseModelName('llama3')))
      assert.equal(got?.digest, digest)
      assert.deepEqual(asked, ['a', 'a', 'a'])
      assert.equal(clock.now() - started, 250 + 500)
    })

    it('gives up once the wait is over, saying why', async () => {
      const asked = withAnswers({ a: [busy()] })
      const since = clock.now()
      await assert.rejects(drive(access.manifestFor(parseModelName('llama3'))), (e: unknown) => isOllamadError(e, 'REGISTRY_UNREACHABLE') && e.message.includes('busy'))
      assert.ok(clock.now() - since <= 5_000, `gave up within the wait (${clock.now() - since} ms)`)
      assert.ok(asked.length >= 4, `asked again meanwhile (${asked.length} times)`)
    })

    it('does not ask a holder that sent bad bytes again, while it waits for a busy one', async () => {
      const asked = withAnswers({ a: [new OllamadError('DIGEST_MISMATCH', 'a sent a manifest that does not match')], b: [busy(), busy(), 'ok'] })
      const got = await drive(access.manifestFor(parseModelName('llama3')))
      assert.equal(got?.digest, digest)
      assert.deepEqual(asked.filter(p => p === 'a'), ['a'], 'the bad holder once')
      assert.deepEqual(asked.filter(p => p === 'b'), ['b', 'b', 'b'])
    })

    it('stops at once when the pull is cancelled during a wait', async () => {
      withAnswers({ a: [busy()] })
      const ac = new AbortController()
      const p = access.manifestFor(parseModelName('llama3'), ac.signal)
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(clock.pending(), 1, 'waiting to ask again')
      ac.abort(new OllamadError('ABORTED', 'pull cancelled'))
      await assert.rejects(p, (e: unknown) => isOllamadError(e, 'ABORTED'))
      assert.equal(clock.pending(), 0, 'no timer left behind')
    })
  })

  it('without a swarm there are no peers, and the client says so', async () => {
    assert.deepEqual(noSwarm.peersFor(blob.digest, blob.size), [])
    assert.equal(await noSwarm.client.have('x', blob.digest), undefined)
    await assert.rejects(noSwarm.client.chunk('x', blob.digest, 0, 1), (e: unknown) => isOllamadError(e, 'PEER_UNAVAILABLE'))
  })
})
