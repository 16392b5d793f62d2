import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { displayName, manifestBlobs, nameKey, type Digest, type ModelName, type Store } from '../store/index.js'
import { throwIfAborted } from '../errors.js'
import type { Puller } from './puller.js'
import type { ProgressListener } from './progress.js'

export interface VerifyResult {
  checked: number
  corrupt: Digest[]
  /** Blobs that could not be read (EIO, EACCES, ...): a disk or permission problem, not corruption, so left alone. */
  unreadable: Array<{ digest: Digest, error: string }>
  repaired: string[]
  failed: Array<{ model: string, error: string }>
}

type Hashed = { digest: string } | { missing: true } | { error: string }

async function sha256File (path: string, signal?: AbortSignal): Promise<Hashed> {
  const h = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal }) as AsyncIterable<Buffer>) h.update(chunk)
  } catch (e) {
    throwIfAborted(signal)
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? { missing: true } : { error: code ?? (e as Error).message }
  }
  return { digest: `sha256:${h.digest('hex')}` }
}

/**
 * Re-hashes the blobs of local models (one, or all). A blob that fails takes its models out of
 * the catalog (manifest and bad blob set aside), and they are fetched again, from peers first,
 * under the same manifests; when that fails, the model is put back as it was and the error said.
 */
export async function verifyModels (c: { store: Store, puller: Puller }, o: { model?: ModelName, signal?: AbortSignal, onProgress?: ProgressListener } = {}): Promise<VerifyResult> {
  const emit = o.onProgress ?? (() => {})
  await c.store.rescan()
  const models = c.store.list().filter(e => o.model === undefined || nameKey(e.name) === nameKey(o.model))
  const result: VerifyResult = { checked: 0, corrupt: [], unreadable: [], repaired: [], failed: [] }
  const seen = new Set<string>()
  for (const e of models) {
    for (const l of manifestBlobs(e.manifest)) {
      if (seen.has(l.digest)) continue
      seen.add(l.digest)
      emit({ status: `verifying ${l.digest}`, digest: l.digest, total: l.size, completed: 0 })
      const got = await sha256File(c.store.layout.blob(l.digest), o.signal)
      result.checked++
      if ('digest' in got && got.digest === l.digest) {
        emit({ status: `verifying ${l.digest}`, digest: l.digest, total: l.size, completed: l.size })
        continue
      }
      if ('error' in got) {
        result.unreadable.push({ digest: l.digest, error: got.error })
        emit({ status: `cannot read ${l.digest} (${got.error})` })
        continue
      }
      result.corrupt.push(l.digest)
      emit({ status: `corrupt ${l.digest}${'missing' in got ? ' (missing)' : ''}` })
    }
  }
  // Every model on disk that uses a bad blob is repaired, not only the ones asked about.
  const affected = c.store.list().filter(e => manifestBlobs(e.manifest).some(l => result.corrupt.includes(l.digest)))
  for (const e of affected) {
    const name = displayName(e.name)
    const bytes = await readFile(c.store.layout.manifest(e.name))
    const aside = await c.store.quarantine(e.name, manifestBlobs(e.manifest).map(l => l.digest).filter(d => result.corrupt.includes(d)))
    emit({ status: `repairing ${name}` })
    try {
      await c.puller.repair(e.name, bytes, { signal: o.signal })
      await aside.drop()
      result.repaired.push(name)
      emit({ status: `repaired ${name}` })
    } catch (err) {
      await aside.restore()
      result.failed.push({ model: name, error: (err as Error).message })
      emit({ status: `could not repair ${name}: ${(err as Error).message}; kept as it was` })
    }
  }
  return result
}
