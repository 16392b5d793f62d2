import { readdir, readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { parseManifest, manifestSize, type Manifest } from './manifest.js'
import { parseModelName, nameKey, type ModelName } from './names.js'
import { parseDigest, type Digest } from './digest.js'
import { watch, type FSWatcher } from 'node:fs'
import type { Clock, Timer } from '../util/clock.js'
import { DEFAULT_RESCAN_INTERVAL_MS } from './constants.js'
import { createListeners } from '../util/listeners.js'

export interface ModelEntry {
  name: ModelName
  /** sha256 of the manifest file's bytes, as Ollama reports it. */
  digest: Digest
  manifest: Manifest
  size: number
  modifiedAt: Date
}

const sha256 = (b: Uint8Array): Digest => parseDigest(`sha256:${createHash('sha256').update(b).digest('hex')}`)

/** Reads one manifest file; undefined when it is missing, invalid, or its path is not a valid name. */
export async function readManifestFile (path: string, name: ModelName): Promise<ModelEntry | undefined> {
  try {
    const [bytes, st] = await Promise.all([readFile(path), stat(path)])
    if (!st.isFile()) return undefined
    const manifest = parseManifest(bytes)
    return { name, digest: sha256(bytes), manifest, size: manifestSize(manifest), modifiedAt: st.mtime }
  } catch {
    return undefined
  }
}

async function subdirs (dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter(d => d.isDirectory()).map(d => d.name)
  } catch { return [] }
}

/** Walks manifests/<host>/<namespace>/<model>/<tag>, keeping only entries whose path is a valid name. */
export async function scanManifests (manifestsDir: string): Promise<Map<string, ModelEntry>> {
  const out = new Map<string, ModelEntry>()
  for (const host of await subdirs(manifestsDir)) {
    for (const ns of await subdirs(join(manifestsDir, host))) {
      for (const model of await subdirs(join(manifestsDir, host, ns))) {
        const dir = join(manifestsDir, host, ns, model)
        let tags: string[] = []
        try {
          tags = (await readdir(dir, { withFileTypes: true })).filter(d => d.isFile()).map(d => d.name)
        } catch {}
        for (const tag of tags) {
          let name: ModelName
          try { name = parseModelName(`${host}/${ns}/${model}:${tag}`) } catch { continue }
          if (name.host !== host || name.namespace !== ns || name.model !== model || name.tag !== tag) continue
          const entry = await readManifestFile(join(dir, tag), name)
          if (entry !== undefined) out.set(nameKey(name), entry)
        }
      }
    }
  }
  return out
}

export type CatalogListener = (models: ModelEntry[]) => void

/** The models on disk by name key, following manifests/ with a watch and a periodic rescan (Ollama changes it too). */
export interface Catalog {
  list: () => ModelEntry[]
  set: (key: string, e: ModelEntry) => void
  delete: (key: string) => void
  /** The store changed a model itself: listeners hear it now, and a scan confirms it soon. */
  changed: () => void
  rescan: () => Promise<void>
  onChange: (l: CatalogListener) => () => void
  close: () => Promise<void>
}

export interface CatalogInit {
  /** @default 30000 */
  rescanIntervalMs?: number
  /** Follow changes made by Ollama itself with a file-system watch. @default true */
  watch?: boolean
}

const snapshotKey = (m: Map<string, ModelEntry>): string =>
  [...m.entries()].map(([k, e]) => `${k}=${e.digest}@${e.modifiedAt.getTime()}`).sort().join('\n')

export async function openCatalog (manifestsDir: string, clock: Clock, init: CatalogInit = {}): Promise<Catalog> {
  const listeners = createListeners<[ModelEntry[]]>()
  let models = new Map<string, ModelEntry>()
  let closed = false
  let scanning: Promise<void> | undefined
  const rescan = async (): Promise<void> => {
    if (scanning !== undefined) return await scanning
    scanning = (async () => {
      const next = await scanManifests(manifestsDir)
      const changed = snapshotKey(next) !== snapshotKey(models)
      models = next
      if (changed) listeners.emit([...models.values()])
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
      watcher = watch(manifestsDir, { recursive: true }, scheduleRescan)
      watcher.on('error', () => {})
    } catch { /* the periodic rescan still follows the directory */ }
  }
  let periodic: Timer | undefined
  const tick = (): void => {
    periodic = clock.setTimeout(() => { void rescan().catch(() => {}).finally(() => { if (!closed) tick() }) }, init.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS)
    periodic.unref?.()
  }
  tick()

  return {
    list: () => [...models.values()],
    set: (key, e) => { models.set(key, e) },
    delete: (key) => { models.delete(key) },
    changed: () => {
      listeners.emit([...models.values()])
      scheduleRescan()
    },
    rescan,
    onChange: listeners.on,
    close: async () => {
      closed = true
      watcher?.close()
      if (debounce !== undefined) clock.clearTimeout(debounce)
      if (periodic !== undefined) clock.clearTimeout(periodic)
      await scanning?.catch(() => {})
    }
  }
}
