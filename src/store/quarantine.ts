import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import type { Layout } from './layout.js'
import { digestFileName, parseDigest, type Digest } from './digest.js'
import { fullName, nameKey, parseModelName, type ModelName } from './names.js'

/** A model's manifest and bad blobs, set aside while a repair runs. */
export interface SetAside {
  /** The repair worked: what was set aside goes. */
  drop: () => Promise<void>
  /** The repair failed: the manifest and blobs come back as they were (unless a repair already put new ones there). */
  restore: () => Promise<void>
}

/** What a quarantine dir holds, written before anything moves so a crash can be undone. */
const NOTE = 'aside.json'

const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)
const quarantineRoot = (layout: Layout): string => join(layout.workDir, 'quarantine')

/** Each file's place in the store and its place in the quarantine dir. */
const places = (layout: Layout, dir: string, name: ModelName, bad: readonly Digest[]): Array<{ from: string, to: string }> => [
  { from: layout.manifest(name), to: join(dir, 'manifest') },
  ...bad.map(d => ({ from: layout.blob(d), to: join(dir, digestFileName(d)) }))
]

/** Moves back what is in the dir and has no newer file in its place, then removes the dir. */
async function putBack (moves: Array<{ from: string, to: string }>, dir: string): Promise<void> {
  for (const { from, to } of moves) {
    if (await exists(from) || !await exists(to)) continue
    await mkdir(join(from, '..'), { recursive: true })
    await rename(to, from)
  }
  await rm(dir, { recursive: true, force: true })
}

/**
 * Moves a model's manifest out of manifests/ (so Ollama and the catalog stop using it) and its
 * bad blobs out of blobs/, into the work dir, nothing deleted: a repair that cannot finish (the
 * registry down, no peer holding the blob) leaves the model as it was, for the operator to judge.
 */
export async function setAside (layout: Layout, name: ModelName, bad: readonly Digest[]): Promise<SetAside> {
  const dir = join(quarantineRoot(layout), createHash('sha256').update(nameKey(name)).digest('hex').slice(0, 32))
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, NOTE), JSON.stringify({ name: fullName(name), bad }))
  const moves = places(layout, dir, name, bad)
  for (const { from, to } of moves) {
    // Another model that shares the blob set it aside already.
    await rename(from, to).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e })
  }
  return {
    drop: async () => { await rm(dir, { recursive: true, force: true }) },
    restore: async () => { await putBack(moves, dir) }
  }
}

/**
 * Puts back what a repair cut short (the process died mid-verify) set aside: at start the model is
 * as it was before, and `verify` can be run again. Returns the names restored; a dir without a
 * readable note is left for the operator.
 */
export async function restoreAside (layout: Layout): Promise<string[]> {
  const root = quarantineRoot(layout)
  const out: string[] = []
  for (const id of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, id)
    try {
      const note = JSON.parse(await readFile(join(dir, NOTE), 'utf8')) as { name?: unknown, bad?: unknown }
      const name = parseModelName(note.name)
      const bad = (Array.isArray(note.bad) ? note.bad : []).map(parseDigest)
      await putBack(places(layout, dir, name, bad), dir)
      out.push(fullName(name))
    } catch {
      // Not ours to judge: an unreadable note stays where the operator can see it.
    }
  }
  return out
}
