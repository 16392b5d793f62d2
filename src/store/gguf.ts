import { open, type FileHandle } from 'node:fs/promises'
import { OllamadError, throwIfAborted } from '../errors.js'

/** GGUF metadata value types, as numbered in the file format. */
export const GgufType = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7,
  STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12
} as const

/**
 * An array longer than `maxArrayKeep` (or past the kept-elements budget) is not kept: only its
 * length and element type are, so a 256k-token vocabulary costs nothing to read.
 */
export interface GgufArraySummary { type: 'array', itemType: number, length: number }

/** 64-bit integers above Number.MAX_SAFE_INTEGER are kept as decimal strings (JSON-safe). */
export type GgufValue = number | string | boolean | GgufValue[] | GgufArraySummary

export interface GgufTensorInfo { name: string, type: number, shape: number[] }

export interface GgufInfo {
  version: number
  /** Keys in file order; a repeated key keeps its first position and its last value. */
  kv: Record<string, GgufValue>
  tensors: GgufTensorInfo[]
  /** Sum of element counts of all tensors (Ollama computes the parameter count this way). */
  parameterCount: number
  architecture: string
  fileType: number | undefined
}

export interface ReadGgufOptions {
  signal?: AbortSignal
  /** Arrays up to this many elements are kept in full; longer ones become a summary. @default 1024 */
  maxArrayKeep?: number
}

export const GGUF_MAX_KV = 65_536
export const GGUF_MAX_TENSORS = 1_000_000
export const GGUF_MAX_STRING_BYTES = 16 * 1024 * 1024
export const GGUF_MAX_ARRAY_LENGTH = 10_000_000
export const GGUF_MAX_DIMS = 8
export const GGUF_MAX_HEADER_BYTES = 512 * 1024 * 1024
export const GGUF_DEFAULT_MAX_ARRAY_KEEP = 1024
/** Bounds memory for nested arrays: past this many kept elements per file, arrays are summarised. */
const MAX_KEPT_ELEMENTS = 1 << 20
/** Bounds recursion on hostile nested arrays. */
const MAX_ARRAY_DEPTH = 8
const READ_CHUNK = 64 * 1024
const NOT_GGUF = 'supplied file was not in GGUF format'
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const FIXED_SIZE: Partial<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }

const invalid = (why: string): OllamadError => new OllamadError('INVALID_REQUEST', `invalid GGUF: ${why}`)

export function isGgufMagic (b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x47 && b[1] === 0x47 && b[2] === 0x55 && b[3] === 0x46
}

/** Positional reader over the head of a file: reads 64 KiB at a time, never past the header cap. */
class Cursor {
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

const jsonInt = (v: bigint): number | string =>
  v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString()

interface ArrayState { maxArrayKeep: number, kept: number }

async function readValue (c: Cursor, type: number, st: ArrayState, depth: number): Promise<GgufValue> {
  switch (type) {
    case GgufType.UINT8: return await c.u8()
    case GgufType.INT8: return await c.i8()
    case GgufType.UINT16: return await c.u16()
    case GgufType.INT16: return await c.i16()
    case GgufType.UINT32: return await c.u32()
    case GgufType.INT32: return await c.i32()
    case GgufType.FLOAT32: return await c.f32()
    case GgufType.BOOL: return (await c.u8()) !== 0
    case GgufType.STRING: return await c.string()
    case GgufType.ARRAY: return await readArray(c, st, depth + 1)
    case GgufType.UINT64: return jsonInt(await c.u64())
    case GgufType.INT64: return jsonInt(await c.i64())
    case GgufType.FLOAT64: return await c.f64()
    default: throw invalid(`unknown value type ${type}`)
  }
}

async function readArrayHead (c: Cursor, depth: number): Promise<{ itemType: number, length: number }> {
  if (depth > MAX_ARRAY_DEPTH) throw invalid(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`)
  const itemType = await c.u32()
  if (itemType > GgufType.FLOAT64) throw invalid(`unknown array element type ${itemType}`)
  const length = await c.u64()
  if (length > BigInt(GGUF_MAX_ARRAY_LENGTH)) throw invalid(`array length ${length} exceeds ${GGUF_MAX_ARRAY_LENGTH}`)
  return { itemType, length: Number(length) }
}

async function readArray (c: Cursor, st: ArrayState, depth: number): Promise<GgufValue> {
  const { itemType, length } = await readArrayHead(c, depth)
  if (length > st.maxArrayKeep || st.kept + length > MAX_KEPT_ELEMENTS) {
    await skipItems(c, itemType, length, depth)
    return { type: 'array', itemType, length }
  }
  st.kept += length
  const out: GgufValue[] = []
  for (let i = 0; i < length; i++) out.push(await readValue(c, itemType, st, depth))
  return out
}

async function skipItems (c: Cursor, itemType: number, length: number, depth: number): Promise<void> {
  const fixed = FIXED_SIZE[itemType]
  if (fixed !== undefined) return c.skip(fixed * length)
  if (itemType === GgufType.STRING) return await c.skipStrings(length)
  for (let i = 0; i < length; i++) {
    const inner = await readArrayHead(c, depth + 1)
    await skipItems(c, inner.itemType, inner.length, depth + 1)
  }
}

async function readTensor (c: Cursor): Promise<GgufTensorInfo & { elements: number }> {
  const name = await c.string()
  const nDims = await c.u32()
  if (nDims > GGUF_MAX_DIMS) throw invalid(`tensor ${JSON.stringify(name)} has ${nDims} dimensions (max ${GGUF_MAX_DIMS})`)
  const shape: number[] = []
  let elements = 1
  for (let i = 0; i < nDims; i++) {
    const d = await c.u64()
    if (d > MAX_SAFE) throw invalid(`tensor ${JSON.stringify(name)} dimension ${d} is too large`)
    const dim = Number(d)
    if (dim !== 0 && elements > Number.MAX_SAFE_INTEGER / dim) throw invalid(`tensor ${JSON.stringify(name)} has too many elements`)
    elements *= dim
    shape.push(dim)
  }
  const type = await c.u32()
  await c.u64() // data offset: not needed, the data is never read
  return { name, type, shape, elements }
}

/**
 * Reads the header, metadata and tensor infos of a GGUF file (v2 or v3, little-endian) without
 * touching the tensor data. Every count and length is bounded before anything is allocated.
 */
export async function readGguf (path: string, opts: ReadGgufOptions = {}): Promise<GgufInfo> {
  throwIfAborted(opts.signal)
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    const head = Buffer.alloc(4)
    const { bytesRead } = await fh.read(head, 0, 4, 0)
    if (bytesRead < 4 || !isGgufMagic(head)) throw new OllamadError('INVALID_REQUEST', NOT_GGUF)
    const c = new Cursor(fh, size, opts.signal)
    c.skip(4)
    const version = await c.u32()
    if (version !== 2 && version !== 3) throw invalid(`unsupported version ${version}`)
    const nTensors = await c.u64()
    const nKv = await c.u64()
    if (nKv > BigInt(GGUF_MAX_KV)) throw invalid(`${nKv} metadata entries exceed ${GGUF_MAX_KV}`)
    if (nTensors > BigInt(GGUF_MAX_TENSORS)) throw invalid(`${nTensors} tensors exceed ${GGUF_MAX_TENSORS}`)

    const st: ArrayState = { maxArrayKeep: opts.maxArrayKeep ?? GGUF_DEFAULT_MAX_ARRAY_KEEP, kept: 0 }
    const kv: Record<string, GgufValue> = {}
    for (let i = 0; i < Number(nKv); i++) {
      const key = await c.string()
      const value = await readValue(c, await c.u32(), st, 0)
      // defineProperty so that a key such as "__proto__" stays plain data
      Object.defineProperty(kv, key, { value, enumerable: true, writable: true, configurable: true })
    }

    const tensors: GgufTensorInfo[] = []
    let parameterCount = 0
    for (let i = 0; i < Number(nTensors); i++) {
      const { elements, ...info } = await readTensor(c)
      parameterCount += elements
      if (parameterCount > Number.MAX_SAFE_INTEGER) throw invalid('parameter count overflows')
      tensors.push(info)
    }

    const arch = kv['general.architecture']
    const ft = kv['general.file_type']
    return {
      version,
      kv,
      tensors,
      parameterCount,
      architecture: typeof arch === 'string' && arch !== '' ? arch : 'unknown',
      fileType: typeof ft === 'number' ? ft : undefined
    }
  } finally {
    await fh.close()
  }
}

const FILE_TYPES: Partial<Record<number, string>> = {
  1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
  36: 'TQ1_0', 37: 'TQ2_0'
}

/** Ollama's name for a llama.cpp file type; 0 (F32) is 'unknown' because Ollama treats 0 as unset. */
export function fileTypeName (ft: number | undefined): string {
  return (ft === undefined ? undefined : FILE_TYPES[ft]) ?? 'unknown'
}

/** Go's %.<digits>f: rounds the exact binary value, ties to even (JS toFixed rounds ties up). */
function goFixed (x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x.toFixed(digits)
  const [int = '0', frac = ''] = x.toFixed(100).split('.') // exact for any double below 1e21
  let n = BigInt(int + frac.slice(0, digits))
  const rest = frac.slice(digits)
  const first = rest[0] ?? '0'
  if (first > '5' || (first === '5' && (/[1-9]/.test(rest.slice(1)) || n % 2n === 1n))) n += 1n
  const s = n.toString().padStart(digits + 1, '0')
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`
}

/** Ollama's format.HumanNumber, e.g. 8030000000 -> '8.0B', 125000000 -> '125M', 1001 -> '1K'. */
export function humanNumber (n: number): string {
  if (n < 0) return `-${humanNumber(-n)}`
  if (n >= 1e9) {
    const v = n / 1e9
    return v === Math.floor(v) ? `${goFixed(v, 0)}B` : `${goFixed(v, 1)}B`
  }
  if (n >= 1e6) {
    const v = n / 1e6
    return v === Math.floor(v) ? `${goFixed(v, 0)}M` : `${goFixed(v, 2)}M`
  }
  if (n >= 1e3) return `${goFixed(n / 1e3, 0)}K`
  return String(Math.floor(n))
}
