import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { chunkMapCid, computeChunkMap, createChunkMapStore, parseDigest } from '../../../src/store/index.js'
import { openStateDb } from '../../../src/store/db.js'
import { makeBlob } from '../../fixtures/blob.js'
import { tempDir } from '../../fixtures/daemon.js'

describe('store/chunk-map-store', () => {
  const blob = makeBlob(5 * 1024 * 1024 + 7, 'map-store')
  const digest = parseDigest(blob.digest)
  const readOf = async (buf: Uint8Array, pos: number, len: number): Promise<number> => { buf.set(blob.data.subarray(pos, pos + len)); return len }

  it('keeps maps across a restart, and drops one of an older version instead of announcing it', async () => {
    const db = await openStateDb(await tempDir('chunk-maps'))
    try {
      const map = await computeChunkMap(readOf, blob.size)
      await createChunkMapStore(db).save(digest, blob.size, map.chain)
      // A version 1 map (each chunk's own sha256) of another blob, as an older ollamad saved it.
      const old = dagCbor.encode({ v: 1, size: 3, chunkSize: 4 * 1024 * 1024, hashes: [new Uint8Array(32)] })
      const other = parseDigest(`sha256:${'ab'.repeat(32)}`)
      await db.put(`chunkmap/${other}`, { cid: Buffer.from(chunkMapCid(old).bytes).toString('base64'), bytes: Buffer.from(old).toString('base64') })
      const again = createChunkMapStore(db)
      await again.load()
      assert.deepEqual(new Uint8Array(again.cid(digest) ?? []), map.cid.bytes)
      assert.deepEqual(await again.bytes(digest), map.bytes)
      assert.equal(again.cid(other), undefined)
      assert.equal(await again.bytes(other), undefined, 'the old map is gone from the database')
    } finally {
      await db.close()
    }
  })
})
