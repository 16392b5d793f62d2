import { rename, rm, stat, writeFile, open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { OllamadError } from '../errors.js'
import type { Layout } from './layout.js'
import { digestFileName, parseDigest, type Digest } from './digest.js'

/**
 * Blobs that wait outside blobs/ for a manifest to use them: uploads (`/api/blobs`) and the small
 * blobs ollamad makes itself (templates, parameters, configs). Ollama's prune never sees them.
 */
export interface Uploads {
  path: (d: Digest) => string
  has: (d: Digest) => Promise<boolean>
  /** Stores an upload after checking its sha256; more than `maxBytes` is refused and nothing kept. */
  import: (d: Digest, body: AsyncIterable<Uint8Array>, o?: { signal?: AbortSignal, maxBytes?: number }) => Promise<void>
  /** Stores bytes under their own digest. */
  put: (digest: Digest, bytes: Uint8Array) => Promise<void>
}

export function createUploads (layout: Layout): Uploads {
  const path = (d: Digest): string => join(layout.workDir, 'uploads', digestFileName(d))
  return {
    path,
    has: async (d) => await stat(path(d)).then(() => true, () => false),
    put: async (digest, bytes) => {
      const tmp = layout.tmp('small')
      await writeFile(tmp, bytes)
      await rename(tmp, path(digest))
    },
    import: async (d, body, o = {}) => {
      const tmp = layout.tmp('upload')
      const fh = await open(tmp, 'w')
      const hash = createHash('sha256')
      let n = 0
      try {
        for await (const chunk of body) {
          if (o.signal?.aborted === true) throw new OllamadError('ABORTED', 'upload aborted')
          n += chunk.byteLength
          if (o.maxBytes !== undefined && n > o.maxBytes) throw new OllamadError('BODY_TOO_LARGE', `blob upload is larger than the ${o.maxBytes} bytes that fit on this node's disk`)
          hash.update(chunk)
          await fh.write(chunk)
        }
        await fh.sync()
      } catch (e) {
        await fh.close(); await rm(tmp, { force: true }); throw e
      }
      await fh.close()
      const got = `sha256:${hash.digest('hex')}`
      if (got !== d) {
        await rm(tmp, { force: true })
        throw new OllamadError('DIGEST_MISMATCH', `digest mismatch, expected "${d}", got "${got}"`)
      }
      await rename(tmp, path(d))
    }
  }
}

/** The digest of some bytes. */
export const digestOf = (bytes: Uint8Array): Digest => parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)
