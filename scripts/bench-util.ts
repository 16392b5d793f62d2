import { createCipheriv, createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { pushModel } from '../test/fixtures/registry.js'

/** The middle value (the upper one of an even count): one noisy round does not move it. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/**
 * Writes out every dirty page on the machine before a timed copy: the kernel flushes a file it was
 * not told to sync about 30 s after it was written (the registry's pushed blob, a daemon's
 * database), and such a burst must not land in whichever copy happens to be timed then.
 */
export async function settleDisk (): Promise<void> {
  await promisify(execFile)('sync')
}

/** Writes `size` pseudo-random bytes (AES-CTR keystream) and returns their sha256 digest. */
export async function writeRandomFile (path: string, size: number, seed = 7): Promise<string> {
  const fh = await open(path, 'w')
  const hash = createHash('sha256')
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16))
  const zero = Buffer.alloc(8 * 1024 * 1024)
  for (let done = 0; done < size;) {
    const n = Math.min(zero.byteLength, size - done)
    const chunk = cipher.update(zero.subarray(0, n))
    hash.update(chunk)
    await fh.write(chunk)
    done += n
  }
  await fh.close()
  return `sha256:${hash.digest('hex')}`
}

const CONFIG = Buffer.from('{"model_format":"gguf","model_family":"llama","architecture":"amd64","os":"linux"}\n')

/**
 * Pushes a model of one random `size`-byte blob (written to `path`) to a registry; returns the
 * blob's digest, the manifest's digest and the model's total size. Models of different `seed`s share no bytes.
 */
export async function pushRandomModel (registryUrl: string, repo: string, path: string, size: number, seed?: number): Promise<{ digest: string, manifestDigest: string, total: number }> {
  const digest = await writeRandomFile(path, size, seed)
  const pushed = await pushModel(registryUrl, repo, 'latest', { config: CONFIG, layers: [{ mediaType: 'application/vnd.ollama.image.model', data: { path, size, digest } }] })
  return { digest, manifestDigest: pushed.digest, total: size + CONFIG.byteLength }
}

export interface JobView { state: string, nodes: Array<{ name: string, state: string, error?: string }> }

/** Polls a cluster job (read with `get`, from wherever the bench reaches the API) until it completes; throws when it fails. */
export async function waitForJob (get: (path: string) => Promise<JobView>, id: string): Promise<void> {
  for (;;) {
    const j = await get(`/api/cluster/jobs/${id}`)
    if (j.state === 'completed') return
    if (j.state !== 'running') throw new Error(`job ${j.state}: ${j.nodes.map(n => `${n.name} ${n.state} ${n.error ?? ''}`).join('; ')}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
