import assert from 'node:assert/strict'
import { Bitmap } from '../../../src/util/bitmap.js'

describe('util/bitmap', () => {
  it('starts empty with one byte per eight bits, rounded up', () => {
    const b = new Bitmap(10)
    assert.equal(b.bytes.byteLength, 2)
    assert.equal(b.count(), 0)
    assert.equal(b.full(), false)
    assert.deepEqual(b.missing(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('sets and clears single bits without touching the others', () => {
    const b = new Bitmap(10)
    b.set(3)
    b.set(9)
    assert.deepEqual([...Array(10).keys()].filter(i => b.get(i)), [3, 9])
    b.set(3, false)
    assert.deepEqual([...Array(10).keys()].filter(i => b.get(i)), [9])
    assert.equal(b.count(), 1)
  })

  it('stores bit i in byte i/8 at bit position i%8, least significant first', () => {
    const b = new Bitmap(16)
    b.set(0)
    b.set(9)
    b.set(15)
    assert.deepEqual([...b.bytes], [0b0000_0001, 0b1000_0010])
  })

  it('is full once every bit is set, and missing lists the unset ones in order', () => {
    const b = new Bitmap(5)
    for (const i of [4, 0, 2]) b.set(i)
    assert.deepEqual(b.missing(), [1, 3])
    b.set(1)
    b.set(3)
    assert.equal(b.full(), true)
    assert.deepEqual(b.missing(), [])
  })

  it('round-trips through its bytes', () => {
    const b = new Bitmap(20)
    for (const i of [1, 7, 8, 19]) b.set(i)
    const copy = new Bitmap(20, b.bytes)
    assert.deepEqual(copy.missing(), b.missing())
    copy.set(2)
    assert.equal(b.get(2), false, 'the copy does not share memory with the original')
  })

  it('ignores stored bytes of the wrong length and starts empty', () => {
    const b = new Bitmap(20, new Uint8Array([0xff, 0xff]))
    assert.equal(b.count(), 0)
  })

  it('refuses bits out of range', () => {
    const b = new Bitmap(8)
    assert.throws(() => { b.set(8) }, RangeError)
    assert.throws(() => { b.set(-1) }, RangeError)
  })

  it('treats a zero-length bitmap as full', () => {
    const b = new Bitmap(0)
    assert.equal(b.full(), true)
    assert.deepEqual(b.missing(), [])
  })
})
