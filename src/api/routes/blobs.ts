import { statfs } from 'node:fs/promises'
import { OllamadError } from '../../errors.js'
import { parseDigest, type Digest } from '../../store/index.js'
import { bodyIdleTimeout, sendError } from '../http-util.js'
import type { ApiComponents } from '../context.js'
import type { Router } from '../router.js'

const digestParam = (raw: string | undefined): Digest => {
  try { return parseDigest(raw) } catch { throw new OllamadError('INVALID_DIGEST', 'invalid digest format') }
}

export function addBlobRoutes (router: Router, c: ApiComponents): void {
  const known = async (d: Digest): Promise<boolean> => await c.store.hasBlob(d) || await c.store.hasUpload(d)

  router.add('HEAD', '/api/blobs/:digest', 'read', async ({ res, params }) => {
    const d = digestParam(params.digest)
    if (await known(d)) res.writeHead(200).end()
    else sendError(res, 404, `blob ${JSON.stringify(params.digest)} not found`)
  })

  router.add('POST', '/api/blobs/:digest', 'write', async ({ req, res, params, signal }) => {
    const d = digestParam(params.digest)
    if (await known(d)) {
      req.resume()
      res.writeHead(200).end()
      return
    }
    // An upload may be a model of tens of gigabytes, but never more than the disk can take.
    const s = await statfs(c.store.layout.root)
    const room = s.bavail * s.bsize
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > room) {
      throw new OllamadError('BODY_TOO_LARGE', `blob of ${declared} bytes does not fit: ${room} bytes free for models`)
    }
    const idle = bodyIdleTimeout(req)
    try { await c.store.importBlob(d, req, { signal, maxBytes: room }) } finally { idle() }
    res.writeHead(201).end()
  })
}
