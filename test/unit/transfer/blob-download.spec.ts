import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { isOllamadError } from '../../../src/errors.js'
import { createRegistryClient } from '../../../src/registry/index.js'
import { chunkCount, chunkSize, computeChunkMap, digestBytes, encodeChunkMap, parseDigest, parseModelName, type ChunkMap, type Digest } from '../../../src/store/index.js'
import { downloadBlob } from '../../../src/transfer/blob-download.js'
import { createBans } from '../../../src/transfer/download/bans.js'
import { noSwarm, type SwarmAccess } from '../../../src/transfer/holdings/swarm-access.js'
import { systemClock } from '../../../src/util/clock.js'
import { createRateLimiter } from '../../../src/util/rate-limit.js'
import { makeBlob, sha256 } from '../../fixtures/blob.js'
import { parseRange, sendBlob, startHttpServer, type TestServer } from '../../fixtures/http-server.js'
import { withStore, type StoreEnv } from '../../fixtures/store.js'
import { createTestSwarm, type TestSwarm } from '../../fixtures/swarm.js'

const MiB = 1024 * 1024
const CHUNK = chunkSize(16 * MiB)
const blob = makeBlob(3 * CHUNK + 999, 'blob-download')
const layer = { mediaType: 'application/vnd.ollama.image.model', digest: parseDigest(blob.digest), size: blob.size }

describe('transfer/blob-download', function () {
  this.timeout(20_000)
  let env: StoreEnv
  let swarm: TestSwarm
  let registry: TestServer
  /** Chunks the registry was asked for, by index. */
  let upstream: number[]
  let map: ChunkMap
  let saved: Digest[]

  before(async () => {
    map = await computeChunkMap(async (buf, pos, len) => { buf.set(blob.data.subarray(pos, pos + len)); return Math.min(len, blob.size - pos) }, blob.size)
  })
  beforeEach(async () => {
    assert.equal(chunkCount(blob.size), 4)
    env = await withStore()
    swarm = createTestSwarm()
    upstream = []
    saved = []
    registry = await startHttpServer((req, res) => {
      const r = parseRange(req.headers.range, blob.size)
      upstream.push(r === undefined ? -1 : Math.floor(r.start / CHUNK))
      sendBlob(req, res, blob.data)
    })
  })
  afterEach(async () => {
    swarm.close()
    await registry.close()
    await env.cleanup()
  })

  /** The cluster as the test swarm shows it, with or without the chunk map on offer. */
  const access = (withMap: boolean, announce?: 'honest' | 'as-served'): SwarmAccess => ({
    ...noSwarm,
    peersFor: () => [...swarm.peers.values()].map(p => p.view(blob.digest, announce === undefined ? {} : { announce })),
    chunkMap: async () => withMap ? map : undefined,
    saveChunkMap: async (d) => { saved.push(d) },
    client: swarm.client(),
    bans: createBans(systemClock)
  })
  const download = async (swarmAccess: SwarmAccess): Promise<Buffer> => {
    const partial = await downloadBlob({ store: env.store(), registry: createRegistryClient(), clock: systemClock, limiter: createRateLimiter(systemClock, undefined), swarm: swarmAccess }, {
      name: parseModelName(`${registry.host}/library/m:latest`),
      layer,
      insecure: true,
      concurrency: 4,
      stallTimeoutMs: 5000,
      retries: 2,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      onProgress: () => {}
    })
    try { return await readFile(partial.path) } finally { await partial.close() }
  }

  it('takes the chunks peers hold from them, only the rest from the registry, and vouches for the chunk map', async () => {
    swarm.add('a').local.add(blob, { chunks: [0, 1] })
    const data = await download(access(true))
    assert.equal(sha256(data), blob.digest)
    assert.deepEqual(upstream.sort(), [2, 3])
    assert.deepEqual(saved, [blob.digest])
  })

  it('with no peers, reads the blob from the registry by Range requests', async () => {
    const data = await download(noSwarm)
    assert.equal(sha256(data), blob.digest)
    assert.deepEqual(upstream.sort(), [0, 1, 2, 3])
  })

  it('when unchecked peer chunks make a wrong blob, bans those peers and fetches it again from the registry alone', async () => {
    // No map anywhere: the peer's chunks are taken against the hashes it announced, which match its bad bytes.
    swarm.add('liar').local.add(blob, { chunks: [0, 1, 2, 3], corrupt: [1] })
    const a = access(false, 'as-served')
    const data = await download(a)
    assert.equal(sha256(data), blob.digest)
    assert.ok(a.bans.until('liar') > Date.now(), 'the peer is banned')
    assert.deepEqual(upstream.sort(), [0, 1, 2, 3], 'every chunk came again from the registry')
  })

  it('when the registry\'s bytes disagree with the chunk map, stops trusting the map and the peers that vouch for it', async () => {
    const chain = map.chain.map(h => new Uint8Array(h))
    const third = chain[2] as Uint8Array
    third[0] = (third[0] as number) ^ 0xff
    const falseMap: ChunkMap = { ...map, chain }
    swarm.add('voucher').local.add(blob, { chunks: [0, 1] })
    const a: SwarmAccess = { ...access(true), chunkMap: async () => falseMap, vouchers: (_d, _size, cid) => cid === falseMap.cid ? ['voucher'] : [] }
    const data = await download(a)
    assert.equal(sha256(data), blob.digest)
    assert.ok(a.bans.until('voucher') > Date.now(), 'the peer that vouched for the map is banned')
    assert.deepEqual(saved, [blob.digest], 'the map this node vouches for now is its own')
    assert.ok(upstream.filter(i => i === 0).length >= 1 && upstream.includes(3), 'the blob came again from the registry')
  })
  for (const damaged of [false, true]) {
    it(damaged
      ? 'with a chunk map, starts over when a chunk on disk from before a restart does not fit the chain'
      : 'with a chunk map, keeps the chunks on disk from before a restart that fit the chain', async () => {
      const before = await env.store().openPartial(layer.digest, layer.size)
      for (const i of [0, 1]) {
        const bytes = Buffer.from(blob.data.subarray(i * CHUNK, (i + 1) * CHUNK))
        if (damaged && i === 1) bytes[100] = (bytes[100] as number) ^ 1
        await before.write(bytes, i * CHUNK)
        await before.markDone(i)
      }
      await before.close()
      swarm.add('a').local.add(blob)
      const data = await download(access(true))
      assert.equal(sha256(data), blob.digest)
      const served = (swarm.peers.get('a')?.local.reads ?? []).map(r => r.index).sort()
      assert.deepEqual(served, damaged ? [0, 1, 2, 3] : [2, 3])
    })
  }
  it('hashes an empty blob even with a chunk map, so a map of an empty chunk cannot stand for another digest', async () => {
    // A peer claims an empty blob under a real digest, with a one-value chain that is that digest.
    swarm.add('liar').local.add({ digest: blob.digest, data: new Uint8Array(0) })
    const lie = encodeChunkMap(0, [digestBytes(blob.digest)])
    const a: SwarmAccess = { ...access(true), peersFor: () => [...swarm.peers.values()].map(p => p.view(blob.digest)), chunkMap: async () => lie }
    await assert.rejects(downloadBlob({ store: env.store(), registry: createRegistryClient(), clock: systemClock, limiter: createRateLimiter(systemClock, undefined), swarm: a }, {
      name: parseModelName(`${registry.host}/library/m:latest`),
      layer: { ...layer, size: 0 },
      insecure: true,
      concurrency: 1,
      stallTimeoutMs: 5000,
      retries: 0,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      onProgress: () => {}
    }), (e: unknown) => isOllamadError(e, 'DIGEST_MISMATCH'))
    assert.deepEqual(saved, [], 'no map is vouched for')
  })
})
