import { readdir, readFile, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { parseManifest, manifestSize, type Manifest } from './manifest.js'
import { parseModelName, nameKey, type ModelName } from './names.js'
import { parseDigest, type Digest } from './digest.js'

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
