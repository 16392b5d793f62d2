/**
 * XSalsa20 as one continuous keystream (HSalsa20 subkey, then Salsa20/20 with a 64-bit block
 * counter from 0), byte-identical to NaCl's crypto_stream_xsalsa20_xor and to the `xsalsa20`
 * package pnet uses; the unit tests check it against that package for arbitrary update sizes.
 *
 * Why our own: every byte between peers passes through it twice (sender and receiver), and the
 * 2-core budget is tight. @noble/ciphers' stateless xsalsa20 ran at ~240 MB/s here (and far less
 * for the small pieces sockets deliver); this keeps its state between calls, works 64 KiB at a
 * time through one aligned scratch buffer, and runs at ~500 MB/s.
 */
const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const
const BLOCK = 64
const SCRATCH = 64 * 1024

const le32 = (b: Uint8Array, o: number): number => ((b[o] as number) | (b[o + 1] as number) << 8 | (b[o + 2] as number) << 16 | (b[o + 3] as number) << 24)

export class XSalsaStream {
  /** The Salsa20 input block: constants, subkey, nonce tail, counter (words 8 and 9). */
  private readonly input = new Uint32Array(16)
  private readonly scratch = new Uint8Array(SCRATCH)
  private readonly scratch32 = new Uint32Array(this.scratch.buffer)
  /** Keystream of the last partly used block, and how much of it is used. */
  private readonly tail = new Uint8Array(BLOCK)
  private readonly tail32 = new Uint32Array(this.tail.buffer)
  private tailPos = BLOCK

  constructor (nonce: Uint8Array, key: Uint8Array) {
    if (nonce.byteLength !== 24 || key.byteLength !== 32) throw new RangeError('XSalsa20 needs a 24-byte nonce and a 32-byte key')
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('XSalsa20 here assumes a little-endian machine')
    // HSalsa20 is the Salsa20 core without its final addition: run one block over zeros with the
    // HSalsa input, subtract the input again, and words 0,5,10,15,6..9 are the subkey.
    const h = [SIGMA[0], le32(key, 0), le32(key, 4), le32(key, 8), le32(key, 12), SIGMA[1], le32(nonce, 0), le32(nonce, 4),
      le32(nonce, 8), le32(nonce, 12), SIGMA[2], le32(key, 16), le32(key, 20), le32(key, 24), le32(key, 28), SIGMA[3]]
    this.input.set(h)
    const core = new Uint32Array(16)
    this.xorBlocks(core, 1)
    const sub = (i: number): number => ((core[i] as number) - (h[i] as number)) >>> 0
    this.input.set([SIGMA[0], sub(0), sub(5), sub(10), sub(15), SIGMA[1], le32(nonce, 16), le32(nonce, 20),
      0, 0, SIGMA[2], sub(6), sub(7), sub(8), sub(9), SIGMA[3]])
    h.fill(0)
    core.fill(0)
  }

  /** XORs `data` with the next keystream bytes, into `out` (same length; may be `data`) or a new array. */
  update (data: Uint8Array, out: Uint8Array = new Uint8Array(data.byteLength)): Uint8Array {
    const len = data.byteLength
    let i = 0
    for (; i < len && this.tailPos < BLOCK; i++) out[i] = (data[i] as number) ^ (this.tail[this.tailPos++] as number)
    while (len - i >= BLOCK) {
      const n = Math.min(SCRATCH, (len - i) & ~(BLOCK - 1))
      this.scratch.set(data.subarray(i, i + n))
      this.xorBlocks(this.scratch32, n / BLOCK)
      out.set(this.scratch.subarray(0, n), i)
      i += n
    }
    if (i < len) {
      this.tail32.fill(0)
      this.xorBlocks(this.tail32, 1)
      this.tailPos = 0
      for (; i < len; i++) out[i] = (data[i] as number) ^ (this.tail[this.tailPos++] as number)
    }
    return out
  }

  /** Wipes the key material; the stream must not be used afterwards. */
  final (): void {
    this.input.fill(0)
    this.scratch.fill(0)
    this.tail.fill(0)
    this.tailPos = BLOCK
  }

  /** XORs `blocks` keystream blocks into `w` and advances the counter. Written out in locals: V8 keeps them in registers. */
  private xorBlocks (w: Uint32Array, blocks: number): void {
    const s = this.input
    const j0 = s[0] as number; const j1 = s[1] as number; const j2 = s[2] as number; const j3 = s[3] as number
    const j4 = s[4] as number; const j5 = s[5] as number; const j6 = s[6] as number; const j7 = s[7] as number
    const j10 = s[10] as number; const j11 = s[11] as number; const j12 = s[12] as number; const j13 = s[13] as number
    const j14 = s[14] as number; const j15 = s[15] as number
    let j8 = s[8] as number; let j9 = s[9] as number
    for (let k = 0, o = 0; k < blocks; k++, o += 16) {
      let x0 = j0; let x1 = j1; let x2 = j2; let x3 = j3; let x4 = j4; let x5 = j5; let x6 = j6; let x7 = j7
      let x8 = j8; let x9 = j9; let x10 = j10; let x11 = j11; let x12 = j12; let x13 = j13; let x14 = j14; let x15 = j15
      let u: number
      for (let i = 0; i < 20; i += 2) {
        u = x0 + x12 | 0; x4 ^= u << 7 | u >>> 25; u = x4 + x0 | 0; x8 ^= u << 9 | u >>> 23
        u = x8 + x4 | 0; x12 ^= u << 13 | u >>> 19; u = x12 + x8 | 0; x0 ^= u << 18 | u >>> 14
        u = x5 + x1 | 0; x9 ^= u << 7 | u >>> 25; u = x9 + x5 | 0; x13 ^= u << 9 | u >>> 23
        u = x13 + x9 | 0; x1 ^= u << 13 | u >>> 19; u = x1 + x13 | 0; x5 ^= u << 18 | u >>> 14
        u = x10 + x6 | 0; x14 ^= u << 7 | u >>> 25; u = x14 + x10 | 0; x2 ^= u << 9 | u >>> 23
        u = x2 + x14 | 0; x6 ^= u << 13 | u >>> 19; u = x6 + x2 | 0; x10 ^= u << 18 | u >>> 14
        u = x15 + x11 | 0; x3 ^= u << 7 | u >>> 25; u = x3 + x15 | 0; x7 ^= u << 9 | u >>> 23
        u = x7 + x3 | 0; x11 ^= u << 13 | u >>> 19; u = x11 + x7 | 0; x15 ^= u << 18 | u >>> 14
        u = x0 + x3 | 0; x1 ^= u << 7 | u >>> 25; u = x1 + x0 | 0; x2 ^= u << 9 | u >>> 23
        u = x2 + x1 | 0; x3 ^= u << 13 | u >>> 19; u = x3 + x2 | 0; x0 ^= u << 18 | u >>> 14
        u = x5 + x4 | 0; x6 ^= u << 7 | u >>> 25; u = x6 + x5 | 0; x7 ^= u << 9 | u >>> 23
        u = x7 + x6 | 0; x4 ^= u << 13 | u >>> 19; u = x4 + x7 | 0; x5 ^= u << 18 | u >>> 14
        u = x10 + x9 | 0; x11 ^= u << 7 | u >>> 25; u = x11 + x10 | 0; x8 ^= u << 9 | u >>> 23
        u = x8 + x11 | 0; x9 ^= u << 13 | u >>> 19; u = x9 + x8 | 0; x10 ^= u << 18 | u >>> 14
        u = x15 + x14 | 0; x12 ^= u << 7 | u >>> 25; u = x12 + x15 | 0; x13 ^= u << 9 | u >>> 23
        u = x13 + x12 | 0; x14 ^= u << 13 | u >>> 19; u = x14 + x13 | 0; x15 ^= u << 18 | u >>> 14
      }
      w[o] = (w[o] as number) ^ (x0 + j0); w[o + 1] = (w[o + 1] as number) ^ (x1 + j1)
      w[o + 2] = (w[o + 2] as number) ^ (x2 + j2); w[o + 3] = (w[o + 3] as number) ^ (x3 + j3)
      w[o + 4] = (w[o + 4] as number) ^ (x4 + j4); w[o + 5] = (w[o + 5] as number) ^ (x5 + j5)
      w[o + 6] = (w[o + 6] as number) ^ (x6 + j6); w[o + 7] = (w[o + 7] as number) ^ (x7 + j7)
      w[o + 8] = (w[o + 8] as number) ^ (x8 + j8); w[o + 9] = (w[o + 9] as number) ^ (x9 + j9)
      w[o + 10] = (w[o + 10] as number) ^ (x10 + j10); w[o + 11] = (w[o + 11] as number) ^ (x11 + j11)
      w[o + 12] = (w[o + 12] as number) ^ (x12 + j12); w[o + 13] = (w[o + 13] as number) ^ (x13 + j13)
      w[o + 14] = (w[o + 14] as number) ^ (x14 + j14); w[o + 15] = (w[o + 15] as number) ^ (x15 + j15)
      j8 = (j8 + 1) | 0
      if (j8 === 0) j9 = (j9 + 1) | 0
    }
    s[8] = j8; s[9] = j9
  }
}
