import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { isOllamadError, type ErrorCode } from '../../../src/errors.js'
import { chunkCount, chunkSize } from '../../../src/store/chunks.js'
import {
  blobCid, chunkFitsChain, chunkMapCid, chunkMapOfFile, computeChunkMap, decodeChunkMap, digestFromCid, encodeChunkMap,
  MAX_CHUNK_MAP_BYTES, RAW_CODE, DAG_CBOR_CODE, SHA2_256_CODE
} from '../../../src/store/chunk-map.js'
import { digestHex } from '../../../src/store/digest.js'
import { makeBlob } from '../../fixtures/blob.js'
import { chunkOf } from '../../fixtures/local-blobs.js'

const MiB = 1024 * 1024
const blob = makeBlob(2 * chunkSize(9 * MiB) + 12345, 'chunk-map')

const readOf = (data: Uint8Array) => async (buf: Uint8Array, pos: number, len: number): Promise<number> => {
  const part = data.subarray(pos, pos + len)
  buf.set(part)
  return part.byteLength
}

const failsWith = (code: ErrorCode, text?: RegExp) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  if (text !== undefined) assert.match(e.message, text)
  return true
}

describe('chunk maps and CIDs', () => {
  it('keeps the sha256 chain of the whole blob in one pass, each chunk checkable against it', async () => {
    const map = await computeChunkMap(readOf(blob.data), blob.size)
    assert.equal(map.chain.length, 3)
    assert.deepEqual(Buffer.from(map.chain[2] as Uint8Array).toString('hex'), digestHex(blob.digest))
    for (let i = 0; i < 3; i++) {
      assert.ok(chunkFitsChain(map.chain, blob.size, i, chunkOf(blob.data, i)), `chunk ${i}`)
      assert.ok(!chunkFitsChain(map.chain, blob.size, (i + 1) % 3, chunkOf(blob.data, i)), `chunk ${i} in another place`)
    }
    assert.equal(map.sha256, digestHex(blob.digest))
    assert.equal(map.chunkSize, chunkSize(blob.size))
    assert.equal(map.cid.code, DAG_CBOR_CODE)
    assert.equal(map.cid.multihash.code, SHA2_256_CODE)
    assert.ok(map.cid.equals(chunkMapCid(map.bytes)))
  })

  it('gives the same bytes and CID on every node, from a file or from memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ollamad-map-'))
    try {
      await writeFile(join(dir, 'b'), blob.data)
      const a = await chunkMapOfFile(join(dir, 'b'))
      const b = await computeChunkMap(readOf(blob.data), blob.size)
      assert.deepEqual(a.bytes, b.bytes)
      assert.equal(a.cid.toString(), b.cid.toString())
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('round-trips through decode with its CID and size', async () => {
    const map = await computeChunkMap(readOf(blob.data), blob.size)
    const back = decodeChunkMap(map.bytes, { cid: map.cid, size: blob.size, digest: blob.digest })
    assert.deepEqual(back.chain, map.chain)
    assert.equal(back.size, blob.size)
  })

  it('maps an empty blob as one empty chunk', async () => {
    const map = await computeChunkMap(readOf(new Uint8Array(0)), 0)
    assert.equal(map.chain.length, 1)
    assert.equal(map.sha256, createHash('sha256').digest('hex'))
    assert.equal(decodeChunkMap(map.bytes, { cid: map.cid, size: 0 }).chain.length, 1)
    assert.ok(chunkFitsChain(map.chain, 0, 0, new Uint8Array(0)))
  })

  it('refuses a map whose bytes do not match the expected CID', async () => {
    const map = await computeChunkMap(readOf(blob.data), blob.size)
    const other = encodeChunkMap(blob.size, map.chain.map(() => new Uint8Array(32)))
    assert.throws(() => decodeChunkMap(other.bytes, { cid: map.cid }), failsWith('CHUNK_MAP_INVALID', /hash to/))
  })

  it('refuses a map whose chain does not end in the blob digest', async () => {
    const map = await computeChunkMap(readOf(blob.data), blob.size)
    const other = encodeChunkMap(blob.size, [...map.chain.slice(0, 2), new Uint8Array(32)])
    assert.throws(() => decodeChunkMap(other.bytes, { size: blob.size, digest: blob.digest }), failsWith('CHUNK_MAP_INVALID', /does not end in/))
    assert.equal(decodeChunkMap(map.bytes, { size: blob.size, digest: blob.digest }).chain.length, 3)
  })

  it('refuses maps that do not split the blob as chunks.ts does', () => {
    const h = new Uint8Array(32)
    const enc = (o: unknown): Uint8Array => dagCbor.encode(o)
    const n = chunkCount(blob.size)
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['a wrong chunk size', enc({ v: 2, size: blob.size, chunkSize: 1024, chain: Array(n).fill(h) }), /chunk size/],
      ['too short a chain', enc({ v: 2, size: blob.size, chunkSize: chunkSize(blob.size), chain: [h] }), /chain length/],
      ['a short chain value', enc({ v: 2, size: blob.size, chunkSize: chunkSize(blob.size), chain: [...Array(n - 1).fill(h), new Uint8Array(31)] }), /32 bytes/],
      ['version 1 (each chunk\'s own sha256)', enc({ v: 1, size: blob.size, chunkSize: chunkSize(blob.size), hashes: Array(n).fill(h) }), /version/],
      ['a negative size', enc({ v: 2, size: -1, chunkSize: chunkSize(0), chain: [h] }), /size/],
      ['a list', enc([1, 2, 3]), /not a map/],
      ['no cbor', new Uint8Array([0xff, 0x00, 0x13]), /dag-cbor/]
    ]
    for (const [what, bytes, msg] of cases) {
      assert.throws(() => decodeChunkMap(bytes), failsWith('CHUNK_MAP_INVALID', msg), what)
    }
    const ok = enc({ v: 2, size: blob.size, chunkSize: chunkSize(blob.size), chain: Array(n).fill(h) })
    assert.throws(() => decodeChunkMap(ok, { size: blob.size + 1 }), failsWith('CHUNK_MAP_INVALID', /expected/))
  })

  it('refuses input over 1 MiB before decoding it', () => {
    assert.throws(() => decodeChunkMap(new Uint8Array(MAX_CHUNK_MAP_BYTES + 1)), failsWith('CHUNK_MAP_INVALID', /over/))
  })

  it('converts a digest to its raw CID and back without hashing', () => {
    const cid = blobCid(blob.digest)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, RAW_CODE)
    assert.equal(Buffer.from(cid.multihash.digest).toString('hex'), digestHex(blob.digest))
    assert.equal(digestFromCid(CID.parse(cid.toString())), blob.digest)
    const map = encodeChunkMap(0, [new Uint8Array(32)])
    assert.throws(() => digestFromCid(map.cid), failsWith('INVALID_DIGEST'))
  })
})
