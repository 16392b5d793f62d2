const MiB = 1024 * 1024
export const MIN_CHUNK = 4 * MiB
export const MAX_CHUNK = 16 * MiB

/**
 * The chunk size is a pure function of the blob size, so every node splits a blob alike and
 * bitmaps line up before anyone has hashed a chunk: about 1/1024 of the blob, a power of two,
 * clamped to 4..16 MiB.
 */
export function chunkSize (blobSize: number): number {
  let c = MIN_CHUNK
  while (c < MAX_CHUNK && c * 1024 < blobSize) c *= 2
  return c
}

export function chunkCount (blobSize: number): number {
  return Math.max(1, Math.ceil(blobSize / chunkSize(blobSize)))
}

/** Byte range [start, end) of chunk i. */
export function chunkRange (blobSize: number, i: number): { start: number, end: number } {
  const c = chunkSize(blobSize)
  return { start: i * c, end: Math.min(blobSize, (i + 1) * c) }
}
