import { mkdir, rename, rm, rmdir, stat, readFile, writeFile, open, unlink } from 'node:fs/promises'
import { createReadStream, watch, type FSWatcher, type ReadStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { dirname, join, sep } from 'node:path'
import { OllamadError } from '../errors.js'
import { systemClock, type Clock, type Timer } from '../util/clock.js'
import { createMutex } from '../util/mutex.js'
import { createLayout, type Layout } from './layout.js'
import { openStateDb, type StateDb } from './db.js'
import { openPartial, type PartialBlob } from './partial.js'
import { scanManifests, readManifestFile, type ModelEntry } from './catalog.js'
import { manifestBlobs, parseManifest } from './manifest.js'
import { nameKey, type ModelName } from './names.js'
import { digestFileName, parseDigest, type Digest } from './digest.js'
import { DEFAULT_RESCAN_INTERVAL_MS } from './constants.js'

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

export type StoreListener = (models: ModelEntry[]) => void

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
  importBlob: (d: Digest, body: AsyncIterable<Uint8Array>, signal?: AbortSignal) => Promise<void>
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
  /** Takes a model out of the catalog and drops one bad blob, keeping its other blobs for a repair. */
  quarantine: (name: ModelName, bad: Digest) => Promise<void>
  copy: (from: ModelName, to: ModelName) => Promise<void>
  rescan: () => Promise<void>
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
  const listeners = new Set<StoreListener>()
  let models = new Map<string, ModelEntry>()
  let closed = false
  const uploadPath = (d: Digest): string => join(layout.workDir, 'uploads', digestFileName(d))

  const snapshotKey = (m: Map<string, ModelEntry>): string =>
    [...m.entries()].map(([k, e]) => `${k}=${e.digest}@${e.modifiedAt.getTime()}`).sort().join('\n')

  /** Tells listeners about a change the store made itself, and lets the scan confirm it. */
  const notify = (): void => {
    for (const l of listeners) l([...models.values()])
    scheduleRescan()
  }

  let scanning: Promise<void> | undefined
  const rescan = async (): Promise<void> => {
    if (scanning !== undefined) return await scanning
    scanning = (async () => {
      const next = await scanManifests(layout.manifestsDir)
      const changed = snapshotKey(next) !== snapshotKey(models)
      models = next
      if (changed) for (const l of listeners) l([...models.values()])
    })().finally(() => { scanning = undefined })
    await scanning
  }

  await rescan()

  let watcher: FSWatcher | undefined
  let debounce: Timer | undefined
  const scheduleRescan = (): void => {
    if (closed || debounce !== undefined) return
    debounce = clock.setTimeout(() => { debounce = undefined; void rescan().catch(() => {}) }, 100)
  }
  if (init.watch !== false) {
    try {
      watcher = watch(layout.manifestsDir, { recursive: true }, scheduleRescan)
      watcher.on('error', () => {})
    } catch { /* the periodic rescan still follows the directory */ }
  }
  let periodic: Timer | undefined
  const tick = (): void => {
    periodic = clock.setTimeout(() => { void rescan().catch(() => {}).finally(() => { if (!closed) tick() }) }, init.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS)
    periodic.unref?.()
  }
  tick()

  const blobSize = async (d: Digest): Promise<number | undefined> =>
    await stat(layout.blob(d)).then(s => s.isFile() ? s.size : undefined, () => undefined)

  const writeAtomic = async (path: string, bytes: Uint8Array): Promise<void> => {
    const tmp = layout.tmp('manifest')
    const fh = await open(tmp, 'w')
    try { await fh.writeFile(bytes); await fh.sync() } finally { await fh.close() }
    await mkdir(dirname(path), { recursive: true })
    await rename(tmp, path)
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
    list: () => [...models.values()],
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
    hasUpload: async (d) => await stat(uploadPath(d)).then(() => true, () => false),
    blobFile: async (d) => {
      for (const p of [layout.blob(d), uploadPath(d)]) {
        if (await stat(p).then(s => s.isFile(), () => false)) return p
      }
      return undefined
    },
    putSmallBlob: async (bytes) => {
      const digest = parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
      if (await store.blobFile(digest) !== undefined) return { digest, size: bytes.byteLength, existed: true }
      const tmp = layout.tmp('small')
      await writeFile(tmp, bytes)
      await rename(tmp, uploadPath(digest))
      return { digest, size: bytes.byteLength, existed: false }
    },
    importBlob: async (d, body, signal) => {
      const tmp = layout.tmp('upload')
      const fh = await open(tmp, 'w')
      const hash = createHash('sha256')
      try {
        for await (const chunk of body) {
          if (signal?.aborted === true) throw new OllamadError('ABORTED', 'upload aborted')
          hash.update(chunk)
          await fh.write(chunk)
        }
        await fh.sync()
      } catch (e) {
        await fh.close(); await rm(tmp, { force: true }); throw e
      }
      await fh.close()
      const got = `sha256:${hash.digest('hex')}`
      if (got !== d) {
        await rm(tmp, { force: true })
        throw new OllamadError('DIGEST_MISMATCH', `digest mismatch, expected "${d}", got "${got}"`)
      }
      await rename(tmp, uploadPath(d))
    },
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
        const up = uploadPath(layer.digest)
        if (await stat(up).then(s => s.size === layer.size, () => false)) {
          moves.push({ from: up, to: layout.blob(layer.digest) })
          continue
        }
        throw new OllamadError('BLOB_NOT_FOUND', `blob ${layer.digest} is missing`)
      }
      for (const m of moves) {
        await m.partial?.close()
        await rename(m.from, m.to)
        await m.partial?.discard()
      }
      for (const p of staged) if (!moves.some(m => m.partial === p)) await p.discard()
      const previous = await readManifestFile(layout.manifest(name), name)
      await writeAtomic(layout.manifest(name), manifestBytes)
      const entry = await readManifestFile(layout.manifest(name), name)
      if (entry === undefined) throw new OllamadError('INTERNAL', `manifest for ${name.model} could not be read back`)
      models.set(nameKey(name), entry)
      const pruned = previous !== undefined && previous.digest !== entry.digest ? await pruneUnreferenced(manifestBlobs(previous.manifest).map(l => l.digest)) : 0
      notify()
      return { entry, pruned }
    }),
    remove: async (name) => await lock.run(async () => {
      const path = layout.manifest(name)
      const entry = await readManifestFile(path, name)
      if (entry === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${name.model}' not found`)
      await unlink(path)
      await pruneEmptyDirs(dirname(path))
      await pruneUnreferenced(manifestBlobs(entry.manifest).map(l => l.digest))
      models.delete(nameKey(name))
      notify()
    }),
    quarantine: async (name, bad) => await lock.run(async () => {
      await rm(layout.manifest(name), { force: true })
      await rm(layout.blob(bad), { force: true })
      models.delete(nameKey(name))
      notify()
    }),
    copy: async (from, to) => await lock.run(async () => {
      const src = await readFile(layout.manifest(from)).catch(() => undefined)
      if (src === undefined) throw new OllamadError('MODEL_NOT_FOUND', `model '${from.model}' not found`)
      parseManifest(src)
      await writeAtomic(layout.manifest(to), src)
      const entry = await readManifestFile(layout.manifest(to), to)
      if (entry !== undefined) models.set(nameKey(to), entry)
      notify()
    }),
    rescan,
    onChange: (l) => { listeners.add(l); return () => { listeners.delete(l) } },
    close: async () => {
      closed = true
      watcher?.close()
      if (debounce !== undefined) clock.clearTimeout(debounce)
      if (periodic !== undefined) clock.clearTimeout(periodic)
      await scanning?.catch(() => {})
      await db.close()
    }
  }
  return store
}

