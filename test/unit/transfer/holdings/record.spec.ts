import assert from 'node:assert/strict'
import { chunkCount, chunkSize, parseDigest, parseModelName, type ModelEntry } from '../../../../src/store/index.js'
import { encodeHoldings, heldBlob, heldChunks, peerView } from '../../../../src/transfer/holdings/record.js'
import { Bitmap } from '../../../../src/util/bitmap.js'
import { makeBlob } from '../../../fixtures/blob.js'

const MiB = 1024 * 1024
const big = makeBlob(5 * chunkSize(20 * MiB) + 3, 'holdings')
const CHUNKS = chunkCount(big.size)
const hash = (i: number): Uint8Array => new Uint8Array(32).fill(i + 1)
const model = (digest: string, size: number): ModelEntry => ({
  name: parseModelName('llama3'),
  digest: parseDigest(`sha256:${'ab'.repeat(32)}`),
  manifest: { schemaVersion: 2, mediaType: '', config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: parseDigest(`sha256:${'cd'.repeat(32)}`), size: 10 }, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: parseDigest(digest), size }] },
  size: size + 10,
  modifiedAt: new Date(1_700_000_000_000)
})

describe('transfer/holdings/record', () => {
  it('a partial blob read back from the record shows the same chunks, announced hashes and arrivals', () => {
    const bitmap = new Bitmap(CHUNKS)
    for (const i of [0, 2]) bitmap.set(i)
    const holdings = encodeHoldings({
      models: [],
      // Chunk 4's hash is no longer held (only held chunks are announced); chunk 2 is held, so not shown arriving.
      partials: [{ digest: big.digest, size: big.size, bitmap, announced: new Map([[0, hash(0)], [4, hash(4)]]), arriving: [1, 2, 3] }],
      mapCid: () => undefined,
      vramEstimate: () => 0
    })
    const blob = heldBlob(holdings, big.digest, big.size)
    assert.ok(blob !== undefined)
    const view = peerView('peer-a', blob)
    assert.equal(view.id, 'peer-a')
    assert.deepEqual(view.bitmap.missing(), [1, 3, 4, 5].filter(i => i < CHUNKS))
    assert.deepEqual([...(view.announced ?? new Map()).entries()], [[0, hash(0)]])
    assert.deepEqual([...Array(CHUNKS).keys()].filter(i => view.arriving?.get(i) === true), [1, 3])
    assert.equal(view.hasMap, undefined, 'no chunk map yet')
    assert.equal(heldBlob(holdings, big.digest, big.size + 1), undefined, 'another size is another blob')
  })

  it('a model\'s blobs read back whole, with its chunk map offered, and the model with its VRAM need', () => {
    const m = model(big.digest, big.size)
    const cid = new Uint8Array([1, 2, 3])
    const holdings = encodeHoldings({
      models: [m],
      // A partial of a blob held whole is not shown twice.
      partials: [{ digest: big.digest, size: big.size, bitmap: new Bitmap(CHUNKS), arriving: [0] }],
      mapCid: (d) => d === big.digest ? cid : undefined,
      vramEstimate: () => 12345
    })
    assert.equal(holdings.blobs.length, 2, 'the layer and the config')
    const blob = heldBlob(holdings, big.digest, big.size)
    assert.ok(blob !== undefined)
    assert.equal(heldChunks(blob).full(), true)
    const view = peerView('peer-b', blob)
    assert.equal(view.hasMap, true)
    assert.equal(view.arriving, undefined, 'nothing arrives at a complete blob')
    assert.deepEqual(holdings.models.map(h => ({ name: h.name, size: h.size, pulledAt: h.pulledAt, vram: h.vramEstimate })), [{ name: 'registry.ollama.ai/library/llama3:latest', size: BigInt(m.size), pulledAt: 1_700_000_000_000n, vram: 12345n }])
  })
})
