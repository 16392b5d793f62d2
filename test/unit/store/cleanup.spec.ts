import assert from 'node:assert/strict'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withStore, type StoreEnv } from '../../fixtures/store.js'
import { makeBlob } from '../../fixtures/blob.js'
import { buildModel, type ModelBlob } from '../../fixtures/store.js'
import { parseModelName } from '../../../src/store/index.js'

const DAY = 24 * 3600 * 1000

describe('store: freeing stale files at start', () => {
  let env: StoreEnv
  beforeEach(async () => { env = await withStore() })
  afterEach(async () => { await env.cleanup() })

  it('drops other processes\' temp files and old uploads and partials, keeps fresh ones and this process\'s', async () => {
    const work = join(env.modelsDir, '.ollamad')
    for (const d of ['tmp', 'uploads']) await mkdir(join(work, d), { recursive: true })
    const write = async (path: string, bytes: number, ageDays = 0): Promise<void> => {
      await writeFile(path, Buffer.alloc(bytes, 1))
      const t = new Date(Date.now() - ageDays * DAY)
      await utimes(path, t, t)
    }
    await write(join(work, 'tmp', '999999-1-0-manifest'), 100)
    await write(join(work, 'tmp', `${process.pid}-1-0-manifest`), 100)
    await write(join(work, 'uploads', 'sha256-' + 'a'.repeat(64)), 4096, 4)
    await write(join(work, 'uploads', 'sha256-' + 'b'.repeat(64)), 4096, 1)
    const old = makeBlob(10_000, 'old')
    const fresh = makeBlob(10_000, 'fresh')
    for (const b of [old, fresh]) { const p = await env.store().openPartial(b.digest, b.size); await p.write(b.data, 0); await p.close() }
    const oldPath = join(work, 'partial', old.digest.replace(':', '-'))
    await utimes(oldPath, new Date(Date.now() - 4 * DAY), new Date(Date.now() - 4 * DAY))

    const kept = await env.store().cleanStale({ maxAgeMs: 3 * DAY, keepPartials: true })
    assert.deepEqual({ ...kept, bytes: 0 }, { files: 2, bytes: 0, partials: 0, uploads: 1, temp: 1, restored: [] })
    assert.ok(kept.bytes >= 4096)
    assert.deepEqual(await env.ls(join(work, 'tmp')), [`${process.pid}-1-0-manifest`])
    assert.deepEqual(await env.ls(join(work, 'uploads')), ['sha256-' + 'b'.repeat(64)])
    assert.equal((await env.ls(join(work, 'partial'))).length, 2, 'partials kept while pulls resume')

    const freed = await env.store().cleanStale({ maxAgeMs: 3 * DAY, keepPartials: false })
    assert.equal(freed.partials, 1)
    assert.deepEqual(await env.ls(join(work, 'partial')), [fresh.digest.replace(':', '-')])
    assert.equal(await env.store().db.get(`partial/${old.digest}`), undefined)
    assert.notEqual(await env.store().db.get(`partial/${fresh.digest}`), undefined)
  })

  it('puts back a model that a verify cut short had set aside', async () => {
    const model = buildModel()
    await env.writeAsOllama('tiny:1', model)
    await env.store().rescan()
    const name = parseModelName('tiny:1')
    const bad = model.layers[0] as ModelBlob
    const manifest = await readFile(env.manifestPath('tiny:1'))
    await env.store().quarantine(name, [bad.digest])
    assert.equal(await env.store().get(name), undefined, 'set aside')
    // The process dies here, before drop or restore: the next start finds the quarantine dir.
    const store = await env.reopen()
    const out = await store.cleanStale({ maxAgeMs: 3 * DAY, keepPartials: true })
    assert.deepEqual(out.restored, ['registry.ollama.ai/library/tiny:1'])
    assert.deepEqual(await readFile(env.manifestPath('tiny:1')), manifest)
    assert.deepEqual(await readFile(env.blobPath(bad.digest)), bad.data)
    assert.ok(await store.get(name), 'back in the catalog')
    assert.deepEqual(await env.ls(join(env.modelsDir, '.ollamad', 'quarantine')), [])
  })
})

