import { join } from 'node:path'
import { digestFileName, type Digest } from './digest.js'
import { manifestPathParts, type ModelName } from './names.js'

/**
 * Paths in an OLLAMA_MODELS directory. Only validated digests and names reach here.
 * Ollama prunes stray files in blobs/ and empty folders in manifests/ at startup, so our own
 * work files live in `.ollamad/` beside them, on the same file system so rename stays atomic.
 */
export interface Layout {
  root: string
  blobsDir: string
  manifestsDir: string
  workDir: string
  blob: (d: Digest) => string
  manifest: (n: ModelName) => string
  partial: (d: Digest) => string
  tmp: (label: string) => string
}

export function createLayout (root: string): Layout {
  const blobsDir = join(root, 'blobs')
  const manifestsDir = join(root, 'manifests')
  const workDir = join(root, '.ollamad')
  let seq = 0
  return {
    root,
    blobsDir,
    manifestsDir,
    workDir,
    blob: (d) => join(blobsDir, digestFileName(d)),
    manifest: (n) => join(manifestsDir, ...manifestPathParts(n)),
    partial: (d) => join(workDir, 'partial', digestFileName(d)),
    tmp: (label) => join(workDir, 'tmp', `${process.pid}-${Date.now()}-${seq++}-${label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}`)
  }
}
