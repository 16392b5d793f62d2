/** A fixed-length bit set, serialisable as bytes for the database and the wire. */
export class Bitmap {
  readonly length: number
  readonly bytes: Uint8Array

  constructor (length: number, bytes?: Uint8Array) {
    this.length = length
    this.bytes = new Uint8Array(Math.ceil(length / 8))
    if (bytes !== undefined && bytes.byteLength === this.bytes.byteLength) this.bytes.set(bytes)
  }

  get (i: number): boolean {
    return ((this.bytes[i >> 3] as number) & (1 << (i & 7))) !== 0
  }

  set (i: number, on = true): void {
    if (i < 0 || i >= this.length) throw new RangeError(`bit ${i} out of range`)
    const b = this.bytes[i >> 3] as number
    this.bytes[i >> 3] = on ? b | (1 << (i & 7)) : b & ~(1 << (i & 7))
  }

  count (): number {
    let n = 0
    for (let i = 0; i < this.length; i++) if (this.get(i)) n++
    return n
  }

  full (): boolean { return this.count() === this.length }

  /** Indices of unset bits, in order. */
  missing (): number[] {
    const out: number[] = []
    for (let i = 0; i < this.length; i++) if (!this.get(i)) out.push(i)
    return out
  }
}
