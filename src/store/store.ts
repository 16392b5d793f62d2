import { mkdir, rename, rm, rmdir, stat, readFile, open, unlink } from 'node:fs/promises'
import { createReadStream, type ReadStream } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { OllamadError } from '../errors.js'
import { systemClock, type Clock } from '../util/clock.js'
import { createMutex } from '../util/mutex.js'
import { createLayout, type Layout } from './layout.js'
import { openStateDb, type StateDb } from './db.js'
import { openPartial, type PartialBlob } from './partial.js'
import { openCatalog, scanManifests, readManifestFile, type CatalogListener, type ModelEntry } from './catalog.js'
import { createUploads, digestOf, type Uploads } from './uploads.js'
import { manifestBlobs, parseManifest } from './manifest.js'
import { nameKey, type ModelName } from './names.js'
import type { Digest } from './digest.js'
import { restoreAside, setAside, type SetAside } from './quarantine.js'
import { fsyncPath } from './durable.js'
import { cleanStale, type CleanupOptions, type Freed } from './cleanup.js'

export interface StoreInit {
  /** The OLLAMA_MODELS directory. */
  modelsDir: string
  /** The daemon's own state directory (level database). */
  dataDir: string
  /** @default 30000 */
  rescanIntervalMs?: number
  /** Follow changes made by Ollama itself with a file-system watch. @default true */
  watch?: boolean
}

export interface StoreComponents { clock?: Clock }

export interface PublishResult {
  entry: ModelEntry
  /** Blobs of the manifest this one replaced that no manifest references any more, now deleted. */
  pruned: number
}

export type StoreListener = CatalogListener

export interface Store {
  layout: Layout
  db: StateDb
  list: () => ModelEntry[]
  /** Reads the model's manifest from disk (the catalog may lag Ollama's own writes). */
  get: (name: ModelName) => Promise<ModelEntry | undefined>
  hasBlob: (d: Digest, size?: number) => Promise<boolean>
  blobSize: (d: Digest) => Promise<number | undefined>
  readBlob: (d: Digest, maxBytes: number) => Promise<Buffer>
  blobStream: (d: Digest, range?: { start: number, end: number }) => ReadStream
  openPartial: (d: Digest, size: number) => Promise<PartialBlob>
  /** Stores an uploaded blob after checking its sha256; it waits outside blobs/ until a manifest uses it. */
  importBlob: Uploads['import']
  hasUpload: (d: Digest) => Promise<boolean>
  /** The file that holds a blob: published in blobs/, or uploaded and waiting for a manifest. */
  blobFile: (d: Digest) => Promise<string | undefined>
  /** Stores a small blob we made (template, params, config); says whether it already existed. */
  putSmallBlob: (bytes: Uint8Array) => Promise<{ digest: Digest, size: number, existed: boolean }>
  /**
   * Makes a model visible: verified partials and uploads are renamed into blobs/, every other
   * blob must already be there, then the manifest is written by temp file and rename.
   */
  publish: (name: ModelName, manifestBytes: Uint8Array, staged: PartialBlob[]) => Promise<PublishResult>
  remove: (name: ModelName) => Promise<void>
  /** Takes a model out of the catalog and sets aside its manifest and bad blobs, keeping the rest for a repair. */
  quarantine: (name: ModelName, bad: readonly Digest[]) => Promise<SetAside>
  copy: (from: ModelName, to: ModelName) => Promise<void>
  rescan: () => Promise<void>
  /** Frees stale temp files, uploads and (unless kept) partial downloads; see cleanup.ts. */
  /** Frees stale files and puts back what a verify cut short had set aside. */
  cleanStale: (o: Omit<CleanupOptions, 'now'>) => Promise<Freed & { restored: string[] }>
  onChange: (l: StoreListener) => () => void
  close: () => Promise<void>
}

export async function createStore (components: StoreComponents, init: StoreInit): Promise<Store> {
  const clock = components.clock ?? systemClock
  const layout = createLayout(init.modelsDir)
  for (const d of [layout.blobsDir, layout.manifestsDir, join(layout.workDir, 'tmp'), join(layout.workDir, 'uploads')]) {
    await mkdir(d, { recursive: true })
  }
  await rm(join(layout.workDir, 'tmp'), { recursive: true, force: true })
  await mkdir(join(layout.workDir, 'tmp'), { recursive: true })
  await mkdir(init.dataDir, { recursive: true })
  const db = await openStateDb(join(init.dataDir, 'state'))
  const lock = createMutex()
  const catalog = await openCatalog(layout.manifestsDir, clock, { rescanIntervalMs: init.rescanIntervalMs, watch: init.watch })
  const uploads = createUploads(layout)

  const blobSize = async (d: Digest): Promise<number | undefined> =>
    await stat(layout.blob(d)).then(s => s.isFile() ? s.size : undefined, () => undefined)

  const writeAtomic = async (path: string, bytes: Uint8Array): Promise<void> => {
    const tmp = layout.tmp('manifest')
    const fh = await open(tmp, 'w')
    try { await fh.writeFile(bytes); await fh.sync() } finally { await fh.close() }
    await mkdir(dirname(path), { recursive: true })
    await rename(tmp, path)
    await fsyncPath(dirname(path))
  }

  /** Every blob referenced by any manifest on disk right now, Ollama's included. */
  const referencedBlobs = async (): Promise<Set<string>> => {
    const all = await scanManifests(layout.manifestsDir)
    const refs = new Set<string>()
    for (const e of all.values()) for (const l of manifestBlobs(e.manifest)) refs.add(l.digest)
    return refs
  }

  /** Deletes those of `candidates` that no manifest on disk references. */
  const pruneUnreferenced = async (candidates: Digest[]): Promise<number> => {
    const refs = await referencedBlobs()
    let n = 0
    for (const d of new Set(candidates)) {
      if (refs.has(d)) continue
      await rm(layout.blob(d), { force: true })
      n++
    }
    return n
  }

  /** Removes folders left empty under manifests/, as Ollama does after a delete. */
  const pruneEmptyDirs = async (dir: string): Promise<void> => {
    for (let d = dir; d.startsWith(layout.manifestsDir + sep) && d !== layout.manifestsDir; d = dirname(d)) {
      if (!await rmdir(d).then(() => true, () => false)) return
    }
  }

  const store: Store = {
    layout,
    db,
    list: catalog.list,
    get: async (name) => await readManifestFile(layout.manifest(name), name),
    hasBlob: async (d, size) => {
      const s = await blobSize(d)
      return s !== undefined && (size === undefined || s === size)
    },
    blobSize,
    readBlob: async (d, maxBytes) => {
      const s = await blobSize(d)
      if (s === undefined) throw new OllamadError('BLOB_NOT_FOUND', `blob ${d} not found`)
      if (s > maxBytes) throw new OllamadError('SIZE_LIMIT', `blob ${d} is larger than ${maxBytes} bytes`)
      return await readFile(layout.blob(d))
    },
    blobStream: (d, range) => createReadStream(layout.blob(d), range !== undefined ? { start: range.start, end: range.end - 1 } : {}),
    openPartial: async (d, size) => await openPartial(layout, db, d, size),
    hasUpload: uploads.has,
    blobFile: async (d) => {
      for (const p of [layout.blob(d), uploads.path(d)]) {
        if (await stat(p).then(s => s.isFile(), () => false)) return p
      }
      return undefined
    },
    putSmallBlob: async (bytes) => {
      const digest = digestOf(bytes)
      if (await store.blobFile(digest) !== undefined) return { digest, size: bytes.byteLength, existed: true }
      await uploads.put(digest, bytes)
      return { digest, size: bytes.byteLength, existed: false }
    },
    importBlob: uploads.import,
    publish: async (name, manifestBytes, staged) => await lock.run(async () => {
      const manifest = parseManifest(manifestBytes)
      const stagedBy = new Map(staged.map(p => [p.digest as string, p]))
      // Decide where every blob comes from before moving any, so a missing one moves nothing.
      const moves: Array<{ from: string, to: string, partial?: PartialBlob }> = []
      for (const layer of manifestBlobs(manifest)) {
        const p = stagedBy.get(layer.digest)
        if (p !== undefined && await stat(p.path).then(s => s.size === layer.size, () => false)) {
          moves.push({ from: p.path, to: layout.blob(layer.digest), partial: p })
          continue
        }
        // A pull of another model that shares this layer may have published it already.
        if (await store.hasBlob(layer.digest, layer.size)) continue
        const up = uploads.path(layer.digest)
        if (await stat(up).then(s => s.size === layer.size, () => false)) {
          moves.push({ from: up, to: layout.blob(layer.digest) })
          continue
        }
        throw new OllamadError('BLOB_NOT_FOUND', `blob ${layer.digest} is missing`)
      }
      // Durable in Ollama's order: the blobs' bytes, their names in blobs/, and only then the
      // manifest that points at them (Ollama's prune at start drops blobs no manifest names, never the reverse).
      for (const m of moves) {
        await m.partial?.close()
        await fsyncPath(m.from)
        await rename(m.from, m.to)
        await m.partial?.discard()
      }
      if (moves.length > 0) await fsyncPath(layout.blobsDir)
      for (const p of staged) if (!moves.some(m => m.partial === p)) await p.discard()
      const previous = await readManifestFile(layout.manifest(name), name)
      await writeAtomic(layout.manifest(name), manifestBytes)
      const entry = await readManifestFile(layout.manifest(name), name)
      if (entry === undefined) throw new OllamadError('INTERNAL', `manifest for ${name.model} could not be read back`)
      catalog.set(nameKey(name), entry)
      const pruned = previous !== undefined && previous.digest !== entry.digest ? await pruneUnreferenced(manifestBlobs(previous.manifest).map(l => l.digest)) : 0
      catalog.changed()
      return { entry, pruned }
    }),
    remove: async (name) => await lock.run(async () => {
      const path = layout.manifest(name)
      const entry = await readManifestFile(path, name)
      if (entry === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${name.model}' not found`)
      await unlink(path)
      await pruneEmptyDirs(dirname(path))
      await pruneUnreferenced(manifestBlobs(entry.manifest).map(l => l.digest))
      catalog.delete(nameKey(name))
      catalog.changed()
    }),
    quarantine: async (name, bad) => await lock.run(async () => {
      const aside = await setAside(layout, name, bad)
      catalog.delete(nameKey(name))
      catalog.changed()
      return {
        drop: aside.drop,
        restore: async () => await lock.run(async () => {
          await aside.restore()
          const entry = await readManifestFile(layout.manifest(name), name)
          if (entry !== undefined) { catalog.set(nameKey(name), entry); catalog.changed() }
        })
      }
    }),
    copy: async (from, to) => await lock.run(async () => {
      const src = await readFile(layout.manifest(from)).catch(() => undefined)
      if (src === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${from.model}' not found`)
      parseManifest(src)
      await writeAtomic(layout.manifest(to), src)
      const entry = await readManifestFile(layout.manifest(to), to)
      if (entry !== undefined) catalog.set(nameKey(to), entry)
      catalog.changed()
    }),
    rescan: catalog.rescan,
    cleanStale: async (o) => await lock.run(async () => {
      const restored = await restoreAside(layout)
      if (restored.length > 0) await catalog.rescan()
      return { ...await cleanStale(layout, db, { ...o, now: clock.now() }), restored }
    }),
    onChange: catalog.onChange,
    close: async () => {
      await catalog.close()
      await db.close()
    }
  }
  return store
}

