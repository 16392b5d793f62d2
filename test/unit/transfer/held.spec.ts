import assert from 'node:assert/strict'
import type { PartialBlob } from '../../../src/store/index.js'
import { createHeldBlobs } from '../../../src/transfer/held.js'

const partial = (digest: string): PartialBlob => ({ digest }) as unknown as PartialBlob

describe('transfer/held: blobs staged by pulls that wait for the rest of their model', () => {
  it('keeps a layer two pulls staged until both let go, and frees it then', () => {
    const released: string[] = []
    const held = createHeldBlobs(d => { released.push(d) })
    const shared = partial('sha256:aa')
    const own = partial('sha256:bb')
    held.stage(shared) // pull 1
    held.stage(shared) // pull 2 joined the same download
    held.stage(own) // pull 2's own layer
    assert.deepEqual(held.release([shared, own]), [own], 'pull 2 failed: only its own layer is closed')
    assert.deepEqual(released, ['sha256:bb'])
    assert.equal(held.has('sha256:aa'), true, 'still served to peers for pull 1')
    assert.deepEqual(held.all(), [shared])
    assert.deepEqual(held.release([shared]), [shared], 'pull 1 lets go: nothing holds it now')
    assert.deepEqual(released, ['sha256:bb', 'sha256:aa'])
    assert.deepEqual(held.all(), [])
  })

  it('frees, and leaves alone, a partial whose digest another partial holds now', () => {
    const held = createHeldBlobs(() => {})
    const old = partial('sha256:cc')
    const now = partial('sha256:cc')
    held.stage(now)
    assert.deepEqual(held.release([old]), [old])
    assert.deepEqual(held.all(), [now])
  })
})
