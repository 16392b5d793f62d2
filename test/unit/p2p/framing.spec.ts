import assert from 'node:assert/strict'
import { frame, framedLength } from '../../../src/p2p/index.js'

describe('p2p/framing', () => {
  it('knows the length of a frame without building it, across varint prefix sizes', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 65_536, 2_097_151, 2_097_152]) {
      assert.equal(framedLength(n), frame(new Uint8Array(n)).byteLength, `a message of ${n} bytes`)
    }
  })
})
