import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import type { Layout } from './layout.js'
import { digestFileName, type Digest } from './digest.js'
import { nameKey, type ModelName } from './names.js'

/** A model's manifest and bad blobs, set aside while a repair runs. */
export interface SetAside {
  /** The repair worked: what was set aside goes. */
  drop: () => Promise<void>
  /** The repair failed: the manifest and blobs come back as they were (unless a repair already put new ones there). */
  restore: () => Promise<void>
}

const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)

/**
 * Moves a model's manifest out of manifests/ (so Ollama and the catalog stop using it) and its
 * bad blobs out of blobs/, into the work dir, nothing deleted: a repair that cannot finish (the
 * registry down, no peer holding the blob) leaves the model as it was, for the operator to judge.
 */
export async function setAside (layout: Layout, name: ModelName, bad: readonly Digest[]): Promise<SetAside> {
  const dir = join(layout.workDir, 'quarantine', createHash('sha256').update(nameKey(name)).digest('hex').slice(0, 32))
  await mkdir(dir, { recursive: true })
  const moved: Array<{ from: string, to: string }> = []
  const move = async (from: string, to: string): Promise<void> => {
    try {
      await rename(from, to)
      moved.push({ from, to })
    } catch (e) {
      // Another model that shares the blob set it aside already.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
  }
  await move(layout.manifest(name), join(dir, 'manifest'))
  for (const d of bad) await move(layout.blob(d), join(dir, digestFileName(d)))
  return {
    drop: async () => { await rm(dir, { recursive: true, force: true }) },
    restore: async () => {
      for (const { from, to } of moved) {
        if (await exists(from)) continue
        await mkdir(join(from, '..'), { recursive: true })
        await rename(to, from)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
