import { xsalsa20 } from '@noble/ciphers/salsa.js'

const BLOCK = 64

/**
 * A stateful XSalsa20 keystream over @noble/ciphers' stateless function: it tracks the block
 * counter and the unused tail of the last block, so arbitrary update sizes line up with one
 * continuous keystream, as the `xsalsa20` package's `update` did, without its shared WASM memory.
 */
export class XSalsaStream {
  private readonly key: Uint8Array
  private readonly nonce: Uint8Array
  private counter = 0
  private readonly tail = new Uint8Array(BLOCK)
  private tailPos = BLOCK

  constructor (nonce: Uint8Array, key: Uint8Array) {
    this.key = new Uint8Array(key)
    this.nonce = new Uint8Array(nonce)
  }

  /** XORs `data` with the next keystream bytes, into `out` (same length) or a new array. */
  update (data: Uint8Array, out: Uint8Array = new Uint8Array(data.byteLength)): Uint8Array {
    let i = 0
    for (; i < data.byteLength && this.tailPos < BLOCK; i++) out[i] = (data[i] as number) ^ (this.tail[this.tailPos++] as number)
    const whole = Math.floor((data.byteLength - i) / BLOCK) * BLOCK
    if (whole > 0) {
      xsalsa20(this.key, this.nonce, data.subarray(i, i + whole), out.subarray(i, i + whole), this.counter)
      this.counter += whole / BLOCK
      i += whole
    }
    if (i < data.byteLength) {
      this.tail.fill(0)
      xsalsa20(this.key, this.nonce, this.tail, this.tail, this.counter++)
      this.tailPos = 0
      for (; i < data.byteLength; i++) out[i] = (data[i] as number) ^ (this.tail[this.tailPos++] as number)
    }
    return out
  }

  /** Wipes the key material. */
  final (): void {
    this.key.fill(0)
    this.tail.fill(0)
  }
}
