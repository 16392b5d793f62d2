import { stat, statfs } from 'node:fs/promises'
import { OllamadError } from '../errors.js'
import type { Layer, Store } from '../store/index.js'

/** Free disk to keep: bytes, or a share of the disk. */
export type MinFreeDisk = { bytes: number } | { percent: number }

const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`

/**
 * Refuses a pull that cannot fit before a byte of it is written: what its missing layers still
 * need (less what their partial files already hold on disk) against the free space, keeping
 * --min-free-disk. A pull that starts may still meet a disk that another writer filled.
 */
export async function checkRoom (store: Store, layers: readonly Layer[], model: string, minFree?: MinFreeDisk): Promise<void> {
  let need = 0
  for (const l of layers) {
    if (await store.hasBlob(l.digest, l.size)) continue
    // Partial files are sparse: their allocated blocks are the bytes already fetched.
    const have = await stat(store.layout.partial(l.digest)).then(s => s.blocks * 512, () => 0)
    need += Math.max(0, l.size - have)
  }
  if (need === 0) return
  const fs = await statfs(store.layout.root)
  const free = fs.bavail * fs.bsize
  const keep = minFree === undefined ? 0 : 'bytes' in minFree ? minFree.bytes : fs.blocks * fs.bsize * minFree.percent / 100
  if (need + keep > free) {
    throw new OllamadError('NO_ROOM', `not enough disk space to pull ${model}: it needs ${gib(need)} more, ${gib(free)} is free in ${store.layout.root}${keep > 0 ? ` and ${gib(keep)} is kept free (--min-free-disk)` : ''}`)
  }
}
