import assert from 'node:assert/strict'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseModelName, fullName, type Digest, type ModelEntry } from '../../../src/store/index.js'
import { isOllamadError, type ErrorCode } from '../../../src/errors.js'
import { makeTinyModel } from '../../fixtures/tiny-model.js'
import { makeBlob } from '../../fixtures/blob.js'
import { waitFor } from '../../fixtures/wait-for.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { buildModel, withStore, type BuiltModel, type StoreEnv } from '../../fixtures/store.js'

const failsWith = (code: ErrorCode) => (e: unknown): boolean => {
  assert.ok(isOllamadError(e), `expected an OllamadError, got ${String(e)}`)
  assert.equal(e.code, code, e.message)
  return true
}

const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)
const names = (models: ModelEntry[]): string[] => models.map(m => fullName(m.name)).sort()
const body = (b: Buffer): Readable => Readable.from([b.subarray(0, 7), b.subarray(7)])

/** Puts every blob of a model in the store's uploads, as `ollama create` does before /api/create. */
async function upload (env: StoreEnv, model: BuiltModel): Promise<void> {
  for (const b of model.blobs) await env.store().importBlob(b.digest, body(b.data))
}

async function publish (env: StoreEnv, name: string, model: BuiltModel): Promise<{ pruned: number }> {
  await upload(env, model)
  return await env.store().publish(parseModelName(name), model.manifest, [])
}

const fileName = (d: Digest): string => `sha256-${d.slice(7)}`

describe('store', function () {
  this.timeout(5000)
  let env: StoreEnv
  const a = buildModel(makeTinyModel({ seed: 'a' }))
  const b = buildModel(makeTinyModel({ seed: 'b' }))
  /** Template and params are the same blobs in both tiny models. */
  const shared = a.blobs.filter(x => b.blobs.some(y => y.digest === x.digest)).map(x => x.digest)
  const onlyA = a.blobs.filter(x => !shared.includes(x.digest)).map(x => x.digest)

  afterEach(async () => { await env?.cleanup() })

  it('the two tiny models share exactly their template and params blobs', () => {
    assert.equal(shared.length, 2)
    assert.equal(onlyA.length, 2)
  })

  describe('publish', () => {
    beforeEach(async () => { env = await withStore() })

    it('renames every blob into blobs/sha256-<hex> and writes the exact manifest bytes at manifests/<host>/<ns>/<model>/<tag>', async () => {
      const { pruned } = await publish(env, 'llama3', a)
      assert.equal(pruned, 0)
      assert.deepEqual(await env.ls(env.blobsDir), a.blobs.map(x => fileName(x.digest)).sort())
      for (const x of a.blobs) assert.deepEqual(await readFile(env.blobPath(x.digest)), x.data)
      const path = join(env.manifestsDir, 'registry.ollama.ai', 'library', 'llama3', 'latest')
      assert.deepEqual(await readFile(path), a.manifest)
      assert.deepEqual(await env.ls(env.uploadsDir), [])
    })

    it('writes a name with a host:port under a folder named for it', async () => {
      await publish(env, '127.0.0.1:5000/ns/m:7b', a)
      assert.deepEqual(await readFile(join(env.manifestsDir, '127.0.0.1:5000', 'ns', 'm', '7b')), a.manifest)
    })

    it('makes the model visible in list() and get() at once', async () => {
      await publish(env, 'user/m:tag', a)
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/user/m:tag'])
      const entry = await env.store().get(parseModelName('user/m:tag'))
      assert.equal(entry?.manifest.layers.length, a.layers.length)
      assert.equal(entry?.size, a.blobs.reduce((n, x) => n + x.size, 0))
    })

    it('moves a staged partial into blobs/ and forgets its record', async () => {
      const model = a.layers[0]
      assert.ok(model !== undefined)
      const p = await env.store().openPartial(model.digest, model.size)
      await p.write(model.data, 0)
      await p.markDone(0)
      for (const x of a.blobs.slice(0, 1).concat(a.blobs.slice(2))) await env.store().importBlob(x.digest, body(x.data))
      await env.store().publish(parseModelName('m'), a.manifest, [p])
      assert.deepEqual(await readFile(env.blobPath(model.digest)), model.data)
      assert.deepEqual(await env.ls(env.partialDir), [])
      assert.equal(await env.store().db.get(`partial/${model.digest}`), undefined)
    })

    it('fails with BLOB_NOT_FOUND and writes no manifest when a referenced blob is missing', async () => {
      for (const x of a.blobs.slice(0, -1)) await env.store().importBlob(x.digest, body(x.data))
      await assert.rejects(env.store().publish(parseModelName('m'), a.manifest, []), failsWith('BLOB_NOT_FOUND'))
      assert.equal(await exists(env.manifestPath('m')), false)
      assert.deepEqual(env.store().list(), [])
    })
    it('leaves the uploads outside blobs/ when publish fails for a missing blob', async () => {
      for (const x of a.blobs.slice(0, -1)) await env.store().importBlob(x.digest, body(x.data))
      await assert.rejects(env.store().publish(parseModelName('m'), a.manifest, []), failsWith('BLOB_NOT_FOUND'))
      assert.deepEqual(await env.ls(env.blobsDir), [])
      assert.equal(await env.store().hasUpload(a.config.digest), true)
    })

    it('refuses an upload of the wrong size for a layer', async () => {
      await upload(env, a)
      const wrong = Buffer.from(a.manifest.toString('utf8').replace(`"size":${a.config.size}`, `"size":${a.config.size + 1}`))
      await assert.rejects(env.store().publish(parseModelName('m'), wrong, []), failsWith('BLOB_NOT_FOUND'))
      assert.equal(await exists(env.manifestPath('m')), false)
    })

    it('refuses invalid manifest bytes without writing anything', async () => {
      await assert.rejects(env.store().publish(parseModelName('m'), Buffer.from('{}'), []), failsWith('MANIFEST_INVALID'))
      assert.deepEqual(await env.ls(env.manifestsDir), [])
    })

    it('over an existing name, prunes the old manifest\'s blobs that nothing references any more and reports how many', async () => {
      await publish(env, 'm', a)
      const { pruned } = await publish(env, 'm', b)
      assert.equal(pruned, onlyA.length)
      for (const d of onlyA) assert.equal(await exists(env.blobPath(d)), false, d)
      for (const x of b.blobs) assert.equal(await exists(env.blobPath(x.digest)), true, x.digest)
      assert.deepEqual(await readFile(env.manifestPath('m')), b.manifest)
    })

    it('over an existing name, keeps the old blobs that another manifest still uses', async () => {
      await publish(env, 'm', a)
      await env.store().copy(parseModelName('m'), parseModelName('m:backup'))
      const { pruned } = await publish(env, 'm', b)
      assert.equal(pruned, 0)
      for (const x of a.blobs) assert.equal(await exists(env.blobPath(x.digest)), true)
    })

    it('publishing the same manifest again prunes nothing', async () => {
      await publish(env, 'm', a)
      assert.equal((await env.store().publish(parseModelName('m'), a.manifest, [])).pruned, 0)
      for (const x of a.blobs) assert.equal(await exists(env.blobPath(x.digest)), true)
    })

    it('uses blobs Ollama already has in blobs/ without any upload', async () => {
      await env.writeAsOllama('other', a)
      await env.store().publish(parseModelName('mine'), a.manifest, [])
      assert.deepEqual(await readFile(env.manifestPath('mine')), a.manifest)
    })
  })

  describe('importBlob', () => {
    beforeEach(async () => { env = await withStore() })

    it('keeps a verified upload in .ollamad/uploads, outside blobs/, until a manifest references it', async () => {
      const blob = makeBlob(100_000, 'upload')
      await env.store().importBlob(blob.digest, body(blob.data))
      assert.deepEqual(await env.ls(env.blobsDir), [])
      assert.deepEqual(await env.ls(env.uploadsDir), [fileName(blob.digest)])
      assert.equal(await env.store().hasUpload(blob.digest), true)
      assert.equal(await env.store().hasBlob(blob.digest), false)
    })

    it('moves the upload into blobs/ when a publish references it', async () => {
      await publish(env, 'm', a)
      for (const x of a.blobs) {
        assert.equal(await env.store().hasUpload(x.digest), false)
        assert.equal(await env.store().hasBlob(x.digest, x.size), true)
      }
    })

    it('refuses a body whose sha256 is not the digest with DIGEST_MISMATCH, leaving nothing behind', async () => {
      const blob = makeBlob(50_000, 'right')
      const other = makeBlob(50_000, 'wrong')
      await assert.rejects(env.store().importBlob(blob.digest, body(other.data)), (e: unknown) => {
        failsWith('DIGEST_MISMATCH')(e)
        assert.match((e as Error).message, new RegExp(`expected "${blob.digest}", got "${other.digest}"`))
        return true
      })
      assert.deepEqual(await env.ls(env.blobsDir), [])
      assert.deepEqual(await env.ls(env.uploadsDir), [])
      assert.deepEqual(await env.ls(join(env.modelsDir, '.ollamad', 'tmp')), [])
      assert.equal(await env.store().hasUpload(blob.digest), false)
    })

    it('stops on an aborted signal and leaves no temp file', async () => {
      const blob = makeBlob(1000, 'abort')
      const ac = new AbortController()
      ac.abort()
      await assert.rejects(env.store().importBlob(blob.digest, body(blob.data), { signal: ac.signal }), failsWith('ABORTED'))
      assert.deepEqual(await env.ls(env.uploadsDir), [])
      assert.deepEqual(await env.ls(join(env.modelsDir, '.ollamad', 'tmp')), [])
    })

    it('refuses a body over its byte limit and leaves no temp file', async () => {
      const blob = makeBlob(100_000, 'too-big')
      await assert.rejects(env.store().importBlob(blob.digest, body(blob.data), { maxBytes: 99_999 }), failsWith('BODY_TOO_LARGE'))
      assert.deepEqual(await env.ls(env.uploadsDir), [])
      assert.deepEqual(await env.ls(join(env.modelsDir, '.ollamad', 'tmp')), [])
      await env.store().importBlob(blob.digest, body(blob.data), { maxBytes: 100_000 })
      assert.equal(await env.store().hasUpload(blob.digest), true)
    })
  })

  describe('putSmallBlob and blobFile', () => {
    beforeEach(async () => { env = await withStore() })

    it('putSmallBlob stores bytes once and says so the second time', async () => {
      const bytes = Buffer.from('{"stop":["<|eot|>"]}')
      const first = await env.store().putSmallBlob(bytes)
      const second = await env.store().putSmallBlob(bytes)
      assert.equal(first.existed, false)
      assert.equal(second.existed, true)
      assert.equal(first.digest, second.digest)
      assert.equal(first.size, bytes.byteLength)
      assert.deepEqual(await env.ls(env.uploadsDir), [fileName(first.digest)])
    })

    it('putSmallBlob finds a blob that is already published', async () => {
      await env.writeAsOllama('m', a)
      const r = await env.store().putSmallBlob(a.config.data)
      assert.deepEqual(r, { digest: a.config.digest, size: a.config.size, existed: true })
      assert.deepEqual(await env.ls(env.uploadsDir), [])
    })

    it('blobFile finds an uploaded blob, a published one, and nothing for an unknown digest', async () => {
      const up = await env.store().putSmallBlob(Buffer.from('uploaded'))
      await env.writeAsOllama('m', a)
      assert.equal(await env.store().blobFile(up.digest), join(env.uploadsDir, fileName(up.digest)))
      assert.equal(await env.store().blobFile(a.config.digest), env.blobPath(a.config.digest))
      assert.equal(await env.store().blobFile(makeBlob(10, 'none').digest), undefined)
    })

    it('readBlob reads a published blob and refuses one over the limit', async () => {
      await env.writeAsOllama('m', a)
      assert.deepEqual(await env.store().readBlob(a.config.digest, 1 << 20), a.config.data)
      await assert.rejects(env.store().readBlob(a.config.digest, a.config.size - 1), failsWith('SIZE_LIMIT'))
      await assert.rejects(env.store().readBlob(makeBlob(10, 'none').digest, 100), failsWith('BLOB_NOT_FOUND'))
    })
  })

  describe('remove and copy', () => {
    beforeEach(async () => { env = await withStore() })

    it('remove deletes the manifest and only the blobs no other manifest references', async () => {
      await publish(env, 'a', a)
      await publish(env, 'b', b)
      await env.store().remove(parseModelName('a'))
      assert.equal(await exists(env.manifestPath('a')), false)
      for (const d of onlyA) assert.equal(await exists(env.blobPath(d)), false, d)
      for (const x of b.blobs) assert.equal(await exists(env.blobPath(x.digest)), true, x.digest)
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/library/b:latest'])
    })

    it('remove keeps blobs used by a manifest Ollama wrote that the catalog has not seen yet', async () => {
      await publish(env, 'a', a)
      await env.writeAsOllama('b', b)
      await env.store().remove(parseModelName('a'))
      for (const d of shared) assert.equal(await exists(env.blobPath(d)), true, d)
    })

    it('remove deletes manifest folders left empty, up to but not including manifests/', async () => {
      await publish(env, 'a', a)
      await publish(env, 'b', b)
      await publish(env, 'b:other', b)
      await env.store().remove(parseModelName('a'))
      assert.deepEqual(await env.ls(join(env.manifestsDir, 'registry.ollama.ai', 'library')), ['b'])
      await env.store().remove(parseModelName('b'))
      assert.deepEqual(await env.ls(join(env.manifestsDir, 'registry.ollama.ai', 'library', 'b')), ['other'])
      await env.store().remove(parseModelName('b:other'))
      assert.deepEqual(await env.ls(env.manifestsDir), [])
      assert.equal(await exists(env.manifestsDir), true)
      assert.deepEqual(await env.ls(env.blobsDir), [])
    })

    it('remove of a model that does not exist fails with MODEL_NOT_FOUND', async () => {
      await assert.rejects(env.store().remove(parseModelName('nope')), failsWith('MODEL_NOT_FOUND'))
    })

    it('copy writes identical manifest bytes under the new name and lists both', async () => {
      await env.writeAsOllama('m', a)
      await env.store().copy(parseModelName('m'), parseModelName('host:5000/ns/copy:v1'))
      assert.deepEqual(await readFile(env.manifestPath('host:5000/ns/copy:v1')), a.manifest)
      const copied = await env.store().get(parseModelName('host:5000/ns/copy:v1'))
      const original = await env.store().get(parseModelName('m'))
      assert.equal(copied?.digest, original?.digest)
      assert.ok(names(env.store().list()).includes('host:5000/ns/copy:v1'))
    })

    it('copy of a model that does not exist fails with MODEL_NOT_FOUND and writes nothing', async () => {
      await assert.rejects(env.store().copy(parseModelName('nope'), parseModelName('x')), failsWith('MODEL_NOT_FOUND'))
      assert.equal(await exists(env.manifestPath('x')), false)
    })
  })

  describe('following Ollama\'s own changes on disk', () => {
    const listener = (env: StoreEnv): { calls: ModelEntry[][] } => {
      const seen = { calls: [] as ModelEntry[][] }
      env.store().onChange(models => { seen.calls.push(models) })
      return seen
    }
    const lastNames = (seen: { calls: ModelEntry[][] }): string[] | undefined => {
      const last = seen.calls.at(-1)
      return last === undefined ? undefined : names(last)
    }

    it('sees a manifest written and then deleted by another process through the watch', async () => {
      env = await withStore({ watch: true, rescanIntervalMs: 60_000 })
      const seen = listener(env)
      const path = await env.writeAsOllama('user/m:tag', a)
      await waitFor(() => lastNames(seen)?.join() === 'registry.ollama.ai/user/m:tag', 5000, 'onChange after the write')
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/user/m:tag'])
      await rm(path)
      await waitFor(() => lastNames(seen)?.length === 0, 5000, 'onChange after the delete')
      assert.deepEqual(env.store().list(), [])
    })

    it('sees a manifest written by another process on rescan(), without a watch', async () => {
      env = await withStore({ watch: false, rescanIntervalMs: 60_000 })
      const seen = listener(env)
      const path = await env.writeAsOllama('m', a)
      assert.deepEqual(env.store().list(), [])
      await env.store().rescan()
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/library/m:latest'])
      assert.equal(seen.calls.length, 1)
      await rm(path)
      await env.store().rescan()
      assert.deepEqual(env.store().list(), [])
      assert.equal(seen.calls.length, 2)
    })

    it('does not call onChange when a rescan finds nothing new', async () => {
      env = await withStore({ watch: false, rescanIntervalMs: 60_000 })
      await env.writeAsOllama('m', a)
      await env.store().rescan()
      const seen = listener(env)
      await env.store().rescan()
      assert.equal(seen.calls.length, 0)
    })

    it('stops calling a listener once it unsubscribes', async () => {
      env = await withStore({ watch: false, rescanIntervalMs: 60_000 })
      const calls: number[] = []
      const off = env.store().onChange(() => { calls.push(1) })
      off()
      await env.writeAsOllama('m', a)
      await env.store().rescan()
      assert.deepEqual(calls, [])
    })

    it('rescans on its own every rescanIntervalMs of the clock it was given', async () => {
      const clock = createFakeClock()
      env = await withStore({ watch: false, rescanIntervalMs: 30_000 }, { clock })
      await env.writeAsOllama('m', a)
      clock.advance(29_999)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(env.store().list(), [])
      clock.advance(1)
      await waitFor(() => env.store().list().length === 1, 5000, 'the periodic rescan')
    })

    it('lists at startup the models already on disk', async () => {
      env = await withStore()
      await env.writeAsOllama('m', a)
      await env.reopen()
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/library/m:latest'])
    })

    it('ignores manifest files at paths that are not valid names, with invalid JSON, or at the wrong depth', async () => {
      env = await withStore()
      await env.writeAsOllama('good', a)
      const put = async (parts: string[], bytes: Buffer | string): Promise<void> => {
        await mkdir(join(env.manifestsDir, ...parts.slice(0, -1)), { recursive: true })
        await writeFile(join(env.manifestsDir, ...parts), bytes)
      }
      await put(['h', 'na.me', 'm', 't'], a.manifest)
      await put(['h', 'ns', '-m', 't'], a.manifest)
      await put(['h', 'ns', 'm', '.hidden'], a.manifest)
      await put(['h', 'ns', 'bad', 'json'], '{"schemaVersion":2,')
      await put(['h', 'ns', 'bad', 'schema'], '{"schemaVersion":1}')
      await put(['h', 'ns', 'shallow'], a.manifest)
      await put(['h', 'ns', 'deep', 'x', 'y'], a.manifest)
      await env.store().rescan()
      assert.deepEqual(names(env.store().list()), ['registry.ollama.ai/library/good:latest'])
    })

    // BUG (suspected): src/store/store.ts:238 (and :250, :259) update the in-memory
    // catalog directly after publish/remove/copy, so the follow-up rescan finds no difference and
    // onChange never fires for the store's own changes: a subscriber (the gossiped catalog) only
    // learns of them from an unrelated later change. Fix: notify listeners after the catalog
    // update (or let the rescan do the update and notify).
    it('calls onChange when the store itself publishes a model', async () => {
      env = await withStore({ watch: false, rescanIntervalMs: 60_000 })
      const seen = listener(env)
      await publish(env, 'm', a)
      await waitFor(() => lastNames(seen)?.join() === 'registry.ollama.ai/library/m:latest', 1000, 'onChange after publish')
    })
  })

  describe('partial blobs', () => {
    const MiB = 1024 * 1024
    const size = 9 * MiB
    const digest = makeBlob(16, 'partial').digest
    beforeEach(async () => { env = await withStore() })

    it('live under <models>/.ollamad/partial and never under blobs/', async () => {
      const p = await env.store().openPartial(digest, size)
      assert.equal(p.path, join(env.partialDir, fileName(digest)))
      assert.equal((await stat(p.path)).size, size)
      assert.deepEqual(await env.ls(env.blobsDir), [])
      await p.close()
    })

    it('keep the chunk bitmap across a store close and reopen', async () => {
      const p = await env.store().openPartial(digest, size)
      assert.equal(p.bitmap.length, 3)
      await p.markDone(0)
      await p.markDone(2)
      await p.close()
      await env.reopen()
      const again = await env.store().openPartial(digest, size)
      assert.deepEqual([0, 1, 2].map(i => again.bitmap.get(i)), [true, false, true])
      assert.equal(again.bytesDone(), size - 4 * MiB)
      await again.close()
    })

    it('keep the written bytes across a reopen', async () => {
      const p = await env.store().openPartial(digest, size)
      await p.write(Buffer.from('hello'), 5 * MiB)
      await p.markDone(1)
      await p.close()
      await env.reopen()
      const again = await env.store().openPartial(digest, size)
      const buf = Buffer.alloc(5)
      assert.equal(await again.read(buf, 5 * MiB, 5), 5)
      assert.equal(buf.toString(), 'hello')
      await again.close()
    })

    it('start over when the size changes', async () => {
      const p = await env.store().openPartial(digest, size)
      await p.markDone(0)
      await p.close()
      const other = await env.store().openPartial(digest, size + 1)
      assert.equal(other.bitmap.count(), 0)
      assert.equal((await stat(other.path)).size, size + 1)
      await other.close()
    })

    it('start over when the data file is gone', async () => {
      const p = await env.store().openPartial(digest, size)
      await p.markDone(1)
      await p.close()
      await rm(p.path)
      const again = await env.store().openPartial(digest, size)
      assert.equal(again.bitmap.count(), 0)
      await again.close()
    })

    it('discard removes the file and the record', async () => {
      const p = await env.store().openPartial(digest, size)
      await p.markDone(0)
      await p.discard()
      assert.equal(await exists(p.path), false)
      assert.equal(await env.store().db.get(`partial/${digest}`), undefined)
      const again = await env.store().openPartial(digest, size)
      assert.equal(again.bitmap.count(), 0)
      await again.close()
    })
  })
})
