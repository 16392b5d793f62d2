import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Layout } from './layout.js'
import type { StateDb } from './db.js'
import { parseDigest } from './digest.js'

export interface Freed { files: number, bytes: number, partials: number, uploads: number, temp: number }

export interface CleanupOptions {
  now: number
  /** Partial downloads and uploads untouched this long are dropped. */
  maxAgeMs: number
  /** Leave partial downloads alone (interrupted pulls are resuming and may need them). */
  keepPartials: boolean
}

/**
 * Frees what nothing will use, at start: temp files of processes that are gone, and partial
 * downloads and uploads older than the age limit (a failed pull keeps its partials so that
 * pulling again resumes; after the limit they go). Returns what was freed.
 */
export async function cleanStale (layout: Layout, db: StateDb, o: CleanupOptions): Promise<Freed> {
  const freed: Freed = { files: 0, bytes: 0, partials: 0, uploads: 0, temp: 0 }
  const drop = async (path: string, bytes: number, kind: 'partials' | 'uploads' | 'temp'): Promise<void> => {
    await rm(path, { recursive: true, force: true })
    freed.files++
    freed.bytes += bytes
    freed[kind]++
  }
  const each = async (dir: string, visit: (name: string, path: string, size: number, mtimeMs: number) => Promise<void>): Promise<void> => {
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      const path = join(dir, name)
      const s = await stat(path).catch(() => undefined)
      if (s !== undefined) await visit(name, path, s.blocks * 512, s.mtimeMs)
    }
  }
  // Temp names start with the writer's pid: another pid's are leftovers of a crash.
  await each(join(layout.workDir, 'tmp'), async (name, path, size) => {
    if (!name.startsWith(`${process.pid}-`)) await drop(path, size, 'temp')
  })
  const old = (mtimeMs: number): boolean => o.now - mtimeMs > o.maxAgeMs
  await each(join(layout.workDir, 'uploads'), async (_name, path, size, mtimeMs) => {
    if (old(mtimeMs)) await drop(path, size, 'uploads')
  })
  if (!o.keepPartials) {
    await each(join(layout.workDir, 'partial'), async (name, path, size, mtimeMs) => {
      if (!old(mtimeMs)) return
      await drop(path, size, 'partials')
      // The record that resumes it goes with it (file names are digests with '-' for ':').
      try { await db.del(`partial/${parseDigest(name.replace('-', ':'))}`) } catch {}
    })
  }
  return freed
}
