import { open } from 'node:fs/promises'
import { OllamadError, throwIfAborted } from '../errors.js'
import { Cursor, invalid } from './gguf-cursor.js'
import { GGUF_DEFAULT_MAX_ARRAY_KEEP, GGUF_MAX_ARRAY_LENGTH, GGUF_MAX_DIMS, GGUF_MAX_KV, GGUF_MAX_TENSORS } from './constants.js'

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

/** Bounds memory for nested arrays: past this many kept elements per file, arrays are summarised. */
const MAX_KEPT_ELEMENTS = 1 << 20
/** Bounds recursion on hostile nested arrays. */
const MAX_ARRAY_DEPTH = 8
const NOT_GGUF = 'supplied file was not in GGUF format'
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const FIXED_SIZE: Partial<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }


export function isGgufMagic (b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x47 && b[1] === 0x47 && b[2] === 0x55 && b[3] === 0x46
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
