import assert from 'node:assert/strict'
import { frame, framedLength, takeFrame } from '../../../src/p2p/index.js'
import { isOllamadError } from '../../../src/errors.js'

describe('p2p/framing', () => {
  it('knows the length of a frame without building it, across varint prefix sizes', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 65_536, 2_097_151, 2_097_152]) {
      assert.equal(framedLength(n), frame(new Uint8Array(n)).byteLength, `a message of ${n} bytes`)
    }
  })

  it('splits a frame off bytes that arrive in any pieces, and leaves what follows it', () => {
    for (const n of [0, 5, 127, 128, 300, 20_000]) {
      const msg = Uint8Array.from({ length: n }, (_, i) => i % 251)
      const bytes = new Uint8Array([...frame(msg), 7, 8, 9])
      for (let cut = 0; cut < framedLength(n); cut += Math.max(1, Math.floor(n / 7))) {
        assert.equal(takeFrame(bytes.subarray(0, cut), 1 << 20), undefined, `${n} bytes cut at ${cut}: not all there`)
      }
      const got = takeFrame(bytes, 1 << 20)
      assert.deepEqual(got?.frame, msg, `${n} bytes`)
      assert.deepEqual([...got?.rest ?? []], [7, 8, 9])
    }
  })

  it('refuses a frame over the limit, or a length prefix too long, before it is all there', () => {
    const over = (f: () => unknown): boolean => { try { f(); return false } catch (e) { return isOllamadError(e, 'PEER_PROTOCOL') } }
    assert.ok(over(() => takeFrame(frame(new Uint8Array(101)).subarray(0, 3), 100)), 'over the limit')
    assert.ok(over(() => takeFrame(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x01]), 1 << 30)), 'five prefix bytes')
    assert.equal(takeFrame(frame(new Uint8Array(100)), 100)?.frame.byteLength, 100, 'at the limit')
  })
})
