import { chmod, mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Writes a secret readable by its owner only (mode 0600), whole or not at all. */
export async function writePrivateFile (path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, bytes, { mode: 0o600 })
  await chmod(tmp, 0o600)
  await rename(tmp, path)
}
