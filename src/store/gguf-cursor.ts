import type { FileHandle } from 'node:fs/promises'
import { OllamadError, throwIfAborted } from '../errors.js'
import { GGUF_MAX_HEADER_BYTES, GGUF_MAX_STRING_BYTES } from './constants.js'

const READ_CHUNK = 64 * 1024

export const invalid = (why: string): OllamadError => new OllamadError('INVALID_REQUEST', `invalid GGUF: ${why}`)

/** Positional reader over the head of a file: reads 64 KiB at a time, never past the header cap. */
export class Cursor {
  pos = 0
  private buf = Buffer.allocUnsafe(READ_CHUNK)
  private bufStart = 0
  private bufEnd = 0

  constructor (private readonly fh: FileHandle, private readonly size: number, private readonly signal?: AbortSignal) {}

  private check (n: number): void {
    const end = this.pos + n
    if (end > GGUF_MAX_HEADER_BYTES) throw invalid(`metadata exceeds ${GGUF_MAX_HEADER_BYTES} bytes`)
    if (end > this.size) throw invalid(`unexpected end of file at offset ${this.pos}`)
  }

  /** Makes bytes [pos, pos + n) available and returns their index in the buffer. */
  private async need (n: number): Promise<number> {
    this.check(n)
    if (this.pos + n <= this.bufEnd) return this.pos - this.bufStart
    throwIfAborted(this.signal)
    const want = Math.min(Math.max(n, READ_CHUNK), this.size - this.pos)
    if (want > this.buf.length) this.buf = Buffer.allocUnsafe(want)
    let got = 0
    while (got < want) {
      const { bytesRead } = await this.fh.read(this.buf, got, want - got, this.pos + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got < n) throw invalid(`unexpected end of file at offset ${this.pos + got}`)
    this.bufStart = this.pos
    this.bufEnd = this.pos + got
    return 0
  }

  skip (n: number): void {
    this.check(n)
    this.pos += n
  }

  private async take<T>(n: number, get: (b: Buffer, i: number) => T): Promise<T> {
    const i = await this.need(n)
    this.pos += n
    return get(this.buf, i)
  }

  u8 = async (): Promise<number> => await this.take(1, (b, i) => b.readUInt8(i))
  i8 = async (): Promise<number> => await this.take(1, (b, i) => b.readInt8(i))
  u16 = async (): Promise<number> => await this.take(2, (b, i) => b.readUInt16LE(i))
  i16 = async (): Promise<number> => await this.take(2, (b, i) => b.readInt16LE(i))
  u32 = async (): Promise<number> => await this.take(4, (b, i) => b.readUInt32LE(i))
  i32 = async (): Promise<number> => await this.take(4, (b, i) => b.readInt32LE(i))
  f32 = async (): Promise<number> => await this.take(4, (b, i) => b.readFloatLE(i))
  f64 = async (): Promise<number> => await this.take(8, (b, i) => b.readDoubleLE(i))
  u64 = async (): Promise<bigint> => await this.take(8, (b, i) => b.readBigUInt64LE(i))
  i64 = async (): Promise<bigint> => await this.take(8, (b, i) => b.readBigInt64LE(i))

  async stringLength (): Promise<number> {
    const len = await this.u64()
    if (len > BigInt(GGUF_MAX_STRING_BYTES)) throw invalid(`string length ${len} exceeds ${GGUF_MAX_STRING_BYTES}`)
    return Number(len)
  }

  /** Skips `count` strings; synchronous while the lengths are buffered, as vocabularies hold 100k+. */
  async skipStrings (count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const at = this.pos + 8 <= this.bufEnd ? this.pos - this.bufStart : await this.need(8)
      const len = this.buf.readBigUInt64LE(at)
      if (len > BigInt(GGUF_MAX_STRING_BYTES)) throw invalid(`string length ${len} exceeds ${GGUF_MAX_STRING_BYTES}`)
      this.pos += 8
      this.skip(Number(len))
    }
  }

  async string (): Promise<string> {
    const n = await this.stringLength()
    return await this.take(n, (b, i) => b.toString('utf8', i, i + n))
  }
}
