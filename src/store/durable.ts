import { open } from 'node:fs/promises'

/**
 * Flushes a file (or a directory's entries) to the disk. A rename is only durable once the
 * renamed file's bytes and then its directory are flushed: without both, a power cut can leave
 * a name that points at zeros.
 */
export async function fsyncPath (path: string): Promise<void> {
  const fh = await open(path, 'r')
  try { await fh.sync() } finally { await fh.close() }
}
