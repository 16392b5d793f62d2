import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readGguf, isGgufMagic, GgufType } from '../../../src/store/gguf.js'
import { fileTypeName, humanNumber } from '../../../src/store/gguf-names.js'
import { buildGguf, ggufHeader } from '../../fixtures/gguf.js'
import { isOllamadError } from '../../../src/errors.js'

describe('store/gguf', () => {
  let dir: string
  let n = 0
  const file = async (bytes: Uint8Array): Promise<string> => {
    const p = join(dir, `m${n++}.gguf`)
    await writeFile(p, bytes)
    return p
  }
  const rejects = async (bytes: Uint8Array, message: RegExp | string): Promise<void> => {
    const p = await file(bytes)
    await assert.rejects(readGguf(p), (e: unknown) => {
      assert.ok(isOllamadError(e, 'INVALID_REQUEST'), String(e))
      if (typeof message === 'string') assert.equal(e.message, message)
      else assert.match(e.message, message)
      return true
    })
  }

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'gguf-spec-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  describe('reading what the fixture wrote', () => {
    it('reads the defaults: architecture, file type, context length and one F32 tensor', async () => {
      const info = await readGguf(await file(buildGguf({})))
      assert.equal(info.version, 3)
      assert.equal(info.architecture, 'llama')
      assert.equal(info.fileType, 15)
      assert.deepEqual(info.kv, {
        'general.architecture': 'llama',
        'general.file_type': 15,
        'llama.context_length': 2048,
        'llama.embedding_length': 8
      })
      assert.deepEqual(info.tensors, [{ name: 'token_embd.weight', type: 0, shape: [8, 4] }])
      assert.equal(info.parameterCount, 32)
    })

    it('reads version 2 files', async () => {
      const info = await readGguf(await file(buildGguf({ version: 2, architecture: 'qwen2', fileType: 2 })))
      assert.equal(info.version, 2)
      assert.equal(info.architecture, 'qwen2')
      assert.equal(fileTypeName(info.fileType), 'Q4_0')
    })

    it('keeps metadata in file order', async () => {
      const info = await readGguf(await file(buildGguf({ kv: { 'z.last': 1, 'a.first': 2 } })))
      assert.deepEqual(Object.keys(info.kv).slice(-2), ['z.last', 'a.first'])
    })

    it('reads every value type, nested arrays included', async () => {
      const big = 2n ** 60n
      const info = await readGguf(await file(buildGguf({
        kv: {
          u8: { type: GgufType.UINT8, value: 250 },
          i8: { type: GgufType.INT8, value: -100 },
          u16: { type: GgufType.UINT16, value: 65000 },
          i16: { type: GgufType.INT16, value: -32000 },
          u32: 4_000_000_000,
          i32: -5,
          f32: 0.5,
          yes: true,
          no: false,
          str: 'héllo',
          u64Small: { type: GgufType.UINT64, value: 123 },
          u64Big: { type: GgufType.UINT64, value: big },
          i64Neg: { type: GgufType.INT64, value: -7 },
          i64Big: { type: GgufType.INT64, value: -big },
          i64Plain: 2 ** 40,
          f64: { type: GgufType.FLOAT64, value: 0.1 },
          strs: ['a', 'b'],
          ints: [1, -2, 3],
          floats: [0.25, 1.5],
          nested: {
            type: GgufType.ARRAY,
            itemType: GgufType.ARRAY,
            value: [{ type: GgufType.ARRAY, itemType: GgufType.UINT8, value: [1, 2] }, { type: GgufType.ARRAY, itemType: GgufType.STRING, value: ['x'] }]
          }
        }
      })))
      const { kv } = info
      assert.equal(kv.u8, 250)
      assert.equal(kv.i8, -100)
      assert.equal(kv.u16, 65000)
      assert.equal(kv.i16, -32000)
      assert.equal(kv.u32, 4_000_000_000)
      assert.equal(kv.i32, -5)
      assert.equal(kv.f32, 0.5)
      assert.equal(kv.yes, true)
      assert.equal(kv.no, false)
      assert.equal(kv.str, 'héllo')
      assert.equal(kv.u64Small, 123)
      assert.equal(kv.u64Big, big.toString())
      assert.equal(kv.i64Neg, -7)
      assert.equal(kv.i64Big, (-big).toString())
      assert.equal(kv.i64Plain, 2 ** 40)
      assert.equal(kv.f64, 0.1)
      assert.deepEqual(kv.strs, ['a', 'b'])
      assert.deepEqual(kv.ints, [1, -2, 3])
      assert.deepEqual(kv.floats, [0.25, 1.5])
      assert.deepEqual(kv.nested, [[1, 2], ['x']])
      assert.deepEqual(JSON.parse(JSON.stringify(info)), info, 'output survives JSON')
    })

    it('sums tensor element counts into parameterCount, for F32 and F16 tensors', async () => {
      const tensors = [
        { name: 'token_embd.weight', dims: [16, 10], type: 0 },
        { name: 'blk.0.attn_q.weight', dims: [16, 16], type: 1 },
        { name: 'output_norm.weight', dims: [16] },
        { name: 'scalar', dims: [] }
      ]
      const info = await readGguf(await file(buildGguf({ tensors })))
      assert.deepEqual(info.tensors, [
        { name: 'token_embd.weight', type: 0, shape: [16, 10] },
        { name: 'blk.0.attn_q.weight', type: 1, shape: [16, 16] },
        { name: 'output_norm.weight', type: 0, shape: [16] },
        { name: 'scalar', type: 0, shape: [] }
      ])
      assert.equal(info.parameterCount, 160 + 256 + 16 + 1)
    })

    it('reads only the header of a multi-GiB file', async () => {
      const p = await file(buildGguf({}))
      const fh = await open(p, 'r+')
      await fh.truncate(6 * 1024 ** 3) // sparse: costs no disk
      await fh.close()
      const info = await readGguf(p)
      assert.equal(info.parameterCount, 32)
    })

    it('reports a missing or empty architecture as unknown and a missing file type as undefined', async () => {
      const info = await readGguf(await file(buildGguf({ architecture: '', fileType: null })))
      assert.equal(info.architecture, 'unknown')
      assert.equal(info.fileType, undefined)
    })

    it('keeps a "__proto__" key as plain data', async () => {
      const info = await readGguf(await file(buildGguf({ kv: { ['__proto__']: 'x' } })))
      assert.equal(Object.getPrototypeOf(info.kv), Object.prototype)
      assert.equal(Object.getOwnPropertyDescriptor(info.kv, '__proto__')?.value, 'x')
    })
  })

  describe('large arrays', () => {
    it('keeps arrays of up to 1024 elements and summarises longer ones by type and length', async () => {
      const tokens = Array.from({ length: 5000 }, (_, i) => `tok${i}`)
      const scores = Array.from({ length: 2000 }, (_, i) => i + 0.5)
      const kept = Array.from({ length: 1024 }, (_, i) => i)
      const info = await readGguf(await file(buildGguf({
        kv: { 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.scores': scores, kept, after: 'still read' }
      })))
      assert.deepEqual(info.kv['tokenizer.ggml.tokens'], { type: 'array', itemType: GgufType.STRING, length: 5000 })
      assert.deepEqual(info.kv['tokenizer.ggml.scores'], { type: 'array', itemType: GgufType.FLOAT32, length: 2000 })
      assert.deepEqual(info.kv.kept, kept)
      assert.equal(info.kv.after, 'still read')
    })

    it('summarises nested arrays too, and honours maxArrayKeep', async () => {
      const inner = { type: GgufType.ARRAY, itemType: GgufType.STRING, value: ['a', 'b', 'c'] }
      const p = await file(buildGguf({ kv: { nested: { type: GgufType.ARRAY, itemType: GgufType.ARRAY, value: [inner, inner] }, after: 1 } }))
      const info = await readGguf(p, { maxArrayKeep: 2 })
      assert.deepEqual(info.kv.nested, [
        { type: 'array', itemType: GgufType.STRING, length: 3 },
        { type: 'array', itemType: GgufType.STRING, length: 3 }
      ])
      assert.equal(info.kv.after, 1)
    })
  })

  describe('hostile and foreign files', () => {
    it('refuses a file without the GGUF magic with Ollama\'s message', async () => {
      await rejects(Buffer.from('{"not":"a model"}'), 'supplied file was not in GGUF format')
      await rejects(Buffer.alloc(0), 'supplied file was not in GGUF format')
      await rejects(Buffer.from('GGU'), 'supplied file was not in GGUF format')
    })

    it('refuses every truncation inside the header', async () => {
      const full = buildGguf({ tensors: [{ name: 't', dims: [8] }] }) // 32 bytes of data, <= 31 of padding
      for (let cut = 4; cut <= full.length - 64; cut++) {
        await rejects(full.subarray(0, cut), /^invalid GGUF: unexpected end of file/)
      }
    })

    it('refuses unsupported versions', async () => {
      await rejects(ggufHeader(0, 0, 1).bytes(), 'invalid GGUF: unsupported version 1')
      await rejects(ggufHeader(0, 0, 4).bytes(), 'invalid GGUF: unsupported version 4')
    })

    it('refuses 2^40 metadata entries or tensors before reading them', async () => {
      await rejects(ggufHeader(0, 2n ** 40n).bytes(), /^invalid GGUF: 1099511627776 metadata entries exceed 65536$/)
      await rejects(ggufHeader(2n ** 40n, 0).bytes(), /^invalid GGUF: 1099511627776 tensors exceed 1000000$/)
    })

    it('refuses a 2^40-byte string before allocating it', async () => {
      await rejects(ggufHeader(0, 1).u64(2n ** 40n).bytes(), /^invalid GGUF: string length 1099511627776 exceeds 16777216$/)
      await rejects(ggufHeader(0, 1).str('k').u32(GgufType.STRING).u64(2n ** 40n).bytes(), /string length 1099511627776 exceeds/)
    })

    it('refuses a string longer than the file without allocating it', async () => {
      await rejects(ggufHeader(0, 1).str('k').u32(GgufType.STRING).u64(15 * 1024 * 1024).raw(Buffer.from('abc')).bytes(),
        /^invalid GGUF: unexpected end of file/)
    })

    it('refuses over-long arrays, unknown types, deep nesting and too many dimensions', async () => {
      await rejects(ggufHeader(0, 1).str('k').u32(GgufType.ARRAY).u32(GgufType.UINT8).u64(2n ** 40n).bytes(), /array length 1099511627776 exceeds 10000000/)
      await rejects(ggufHeader(0, 1).str('k').u32(13).bytes(), 'invalid GGUF: unknown value type 13')
      await rejects(ggufHeader(0, 1).str('k').u32(GgufType.ARRAY).u32(99).u64(0).bytes(), /unknown array element type 99/)
      const deep = ggufHeader(0, 1).str('k').u32(GgufType.ARRAY)
      for (let i = 0; i < 10; i++) deep.u32(GgufType.ARRAY).u64(1)
      await rejects(deep.bytes(), /arrays nested deeper than 8/)
      await rejects(ggufHeader(1, 0).str('t').u32(9).bytes(), /tensor "t" has 9 dimensions \(max 8\)/)
    })

    it('refuses a long array whose skipped contents run past the end of the file', async () => {
      await rejects(ggufHeader(0, 1).str('k').u32(GgufType.ARRAY).u32(GgufType.UINT32).u64(5_000_000).bytes(), /unexpected end of file/)
    })

    it('refuses tensors whose element count cannot be represented', async () => {
      await rejects(ggufHeader(1, 0).str('t').u32(2).u64(2n ** 40n).u64(2n ** 40n).u32(0).u64(0).bytes(), /tensor "t" has too many elements/)
    })

    it('stops when the signal is already aborted', async () => {
      const p = await file(buildGguf({}))
      await assert.rejects(readGguf(p, { signal: AbortSignal.abort() }), (e: unknown) => isOllamadError(e, 'ABORTED'))
    })
  })

  describe('isGgufMagic', () => {
    it('recognises the magic only at the start', () => {
      assert.equal(isGgufMagic(buildGguf({})), true)
      assert.equal(isGgufMagic(Buffer.from('GGU')), false)
      assert.equal(isGgufMagic(Buffer.from('xGGUF')), false)
    })
  })

  describe('fileTypeName', () => {
    it('uses Ollama\'s names, with F32 and unset shown as unknown', () => {
      const cases: Array<[number | undefined, string]> = [
        [undefined, 'unknown'], [0, 'unknown'], [1, 'F16'], [2, 'Q4_0'], [3, 'Q4_1'], [4, 'unknown'],
        [7, 'Q8_0'], [10, 'Q2_K'], [14, 'Q4_K_S'], [15, 'Q4_K_M'], [18, 'Q6_K'], [21, 'Q2_K_S'],
        [30, 'IQ4_XS'], [31, 'IQ1_M'], [32, 'BF16'], [33, 'unknown'], [36, 'TQ1_0'], [37, 'TQ2_0'], [1024, 'unknown']
      ]
      for (const [ft, name] of cases) assert.equal(fileTypeName(ft), name, `file type ${String(ft)}`)
    })
  })

  describe('humanNumber', () => {
    it('matches Ollama\'s format_test.go table', () => {
      const cases: Array<[number, string]> = [
        [0, '0'], [999, '999'], [1000, '1K'], [1001, '1K'], [1000000, '1M'], [125000000, '125M'],
        [500500000, '500.50M'], [500550000, '500.55M'], [1000000000, '1B'], [2800000000, '2.8B'],
        [2850000000, '2.9B'], [1000000000000, '1000B']
      ]
      for (const [input, want] of cases) assert.equal(humanNumber(input), want, String(input))
    })

    it('formats common model sizes', () => {
      assert.equal(humanNumber(8030000000), '8.0B')
      assert.equal(humanNumber(7000000000), '7B')
      assert.equal(humanNumber(6738415616), '6.7B')
      assert.equal(humanNumber(1500), '2K')
    })

    it('rounds exact ties to even like Go\'s fmt, not up like toFixed', () => {
      assert.equal(humanNumber(2500), '2K')
      assert.equal(humanNumber(3500), '4K')
      assert.equal(humanNumber(2250000000), '2.2B')
      assert.equal(humanNumber(1125000), '1.12M')
    })
  })
})
