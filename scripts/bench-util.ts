import { createCipheriv, createHash } from 'node:crypto'
import { open } from 'node:fs/promises'

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
