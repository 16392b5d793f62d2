import net from 'node:net'
import { Readable } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'
import { OllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import { createBodyFlow, feedPieces, readPiecesInto, type BodyFlow, type BodyTarget, type DirectBody } from './body.js'
import { parseHead, type BodyFraming } from './head.js'
import { createChunkedDecoder } from './chunked.js'

/** A response head larger than this is refused (node:http's own limit is 16 KiB). */
const HEAD_MAX = 64 * 1024
const SLOW_READ = 64 * 1024
const noBytes = Buffer.alloc(0)

export interface DirectRequest {
  method?: string
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Fails with STALLED when the socket is idle this long before the head, or inside a streamed body. */
  timeoutMs?: number
}

/**
 * A plain-HTTP/1.1 response read straight off its socket. As a Readable it serves the slow paths
 * (error bodies, discarding); `readInto` has the socket read the body straight into the caller's
 * buffers: one read per event-loop turn, as large as the caller's room, and no copy on the way.
 * node:http costs about 1 CPU-second more per GiB here, in copies and stream layers.
 */
export class DirectResponse extends Readable implements DirectBody {
  statusCode = 0
  headers: IncomingHttpHeaders = {}
  readInto: (target: BodyTarget, clock: Clock, stallMs: number) => Promise<void> = async () => {}
  /** The streamed path's start and the socket's end, wired by `directRequest`. */
  onRead: () => void = () => {}
  onDestroy: (e?: Error) => void = () => {}
  override _read (): void { this.onRead() }
  override _destroy (e: Error | null, cb: (e?: Error | null) => void): void { this.onDestroy(e ?? undefined); cb(e) }
}

function requestHead (url: URL, method: string, headers: Record<string, string>): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close']
  for (const [k, v] of Object.entries(headers)) {
    // A value from a token server or a redirect must not add lines of its own.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n\0]/.test(v)) throw new OllamadError('REGISTRY_ERROR', `invalid request header ${JSON.stringify(k)}`)
    lines.push(`${k}: ${v}`)
  }
  return lines.join('\r\n') + '\r\n\r\n'
}

/** One plain-HTTP exchange without a request body; the response is read by `DirectResponse`. */
export async function directRequest (url: URL, req: DirectRequest = {}): Promise<DirectResponse> {
  if (url.protocol !== 'http:') throw new OllamadError('REGISTRY_ERROR', `direct requests are plain http, not ${url.protocol}`)
  const method = req.method ?? 'GET'
  const request = requestHead(url, method, req.headers ?? {})
  if (req.signal?.aborted === true) throw new OllamadError('ABORTED', 'request aborted')
  const res = new DirectResponse()
  // Errors reach readers through their iterators and flows; a response nobody reads must not throw.
  res.on('error', () => {})
  const headBuf = Buffer.allocUnsafe(HEAD_MAX)
  let headLen = 0
  let slowBuf: Buffer | undefined
  let mode: 'head' | 'held' | 'stream' | 'direct' | 'done' = 'head'
  let framing: BodyFraming = { kind: 'close' }
  let left = Infinity
  let leftover = noBytes
  let eof = false
  let failure: unknown
  let flow: BodyFlow | undefined
  let feeder: ReturnType<typeof feedPieces> | undefined
  let room: Uint8Array = noBytes
  let target: BodyTarget | undefined
  let decode: ReturnType<typeof createChunkedDecoder> | undefined

  return await new Promise<DirectResponse>((resolve, reject) => {
    const socket = net.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 80 : Number(url.port),
      onread: { buffer: () => readBuffer(), callback: (n, buf) => onBytes(n, buf as Buffer) }
    })
    const fail = (e: unknown): void => {
      if (mode === 'done') return
      const was = mode
      mode = 'done'
      failure = e
      socket.destroy()
      if (was === 'head') reject(e)
      else if (flow !== undefined) flow.fail(e)
      else res.destroy(e as Error)
    }
    /** The body is over: the streamed path ends its Readable, the direct path its flow. */
    const finish = (): void => {
      if (mode === 'done') return
      const was = mode
      mode = 'done'
      socket.destroy()
      if (was === 'direct') flow?.end()
      else res.push(null)
    }
    const complete = (): boolean => framing.kind === 'length' ? left === 0 : false
    const onEof = (): void => {
      if (framing.kind === 'close' || complete()) finish()
      else fail(new OllamadError('REGISTRY_ERROR', `${url.host} closed the connection inside the body`))
    }
    const onAbort = (): void => { fail(new OllamadError('ABORTED', 'request aborted')) }
    req.signal?.addEventListener('abort', onAbort, { once: true })

    function readBuffer (): Uint8Array {
      if (mode === 'head') return headBuf.subarray(headLen)
      // While the feeder holds bytes, they go to the target's space first: the next read must not.
      if (mode === 'direct' && target !== undefined && feeder?.holding() !== true) {
        const space = target.space()
        room = space.subarray(0, Math.min(space.byteLength, left))
        if (room.byteLength > 0) return room
      }
      slowBuf ??= Buffer.allocUnsafe(SLOW_READ)
      return slowBuf
    }
    function onBytes (n: number, buf: Buffer): boolean {
      if (mode === 'head') { headLen += n; return onHead() }
      if (mode === 'stream') return streamBytes(buf.subarray(0, n))
      if (mode !== 'direct' || flow === undefined || feeder === undefined) return false
      const k = Math.min(n, left)
      left -= k
      // Node picks the next read's buffer right after each read: one that came while the target
      // was busy landed in the spare buffer and is copied over.
      const more = buf === room ? flow.filled(k) : feeder.take(buf.subarray(0, k))
      if (left === 0) { finish(); return false }
      return more
    }
    /** Streamed body bytes, copied out since the read buffer is reused; false pauses the socket. */
    const streamBytes = (bytes: Buffer): boolean => {
      let more = true
      if (decode !== undefined) {
        let over: boolean
        try { over = decode(bytes, b => { more = res.push(b) && more }) } catch (e) { fail(e); return false }
        if (over) { finish(); return false }
        return more
      }
      const n = Math.min(bytes.byteLength, left)
      left -= n
      if (n > 0) more = res.push(Buffer.from(bytes.subarray(0, n)))
      if (complete()) { finish(); return false }
      return more
    }

    const onHead = (): boolean => {
      const end = headBuf.subarray(0, headLen).indexOf('\r\n\r\n')
      if (end < 0) {
        if (headLen >= HEAD_MAX) fail(new OllamadError('REGISTRY_ERROR', `${url.host} sent a response head over ${HEAD_MAX} bytes`))
        return true
      }
      let head
      try { head = parseHead(headBuf.toString('latin1', 0, end), method) } catch (e) { fail(e); return false }
      const rest = headBuf.subarray(end + 4, headLen)
      if (head.status < 200) {
        // An interim response (100 Continue and the like): the real head follows.
        headLen = rest.copy(headBuf, 0)
        return onHead()
      }
      leftover = Buffer.from(rest)
      res.statusCode = head.status
      res.headers = head.headers
      framing = head.framing
      if (framing.kind === 'length') left = framing.length
      if (framing.kind === 'chunked') decode = createChunkedDecoder()
      mode = 'held'
      socket.setTimeout(0)
      resolve(res)
      return false
    }
    /** Leftover bytes from the head's read go first; then the socket, unless the body is over. */
    const start = (take: (bytes: Buffer) => boolean): void => {
      const first = leftover
      leftover = noBytes
      const going = first.byteLength === 0 || take(first)
      if (mode === 'done') return
      if (complete()) finish()
      else if (!going) return
      else if (eof) onEof()
      else socket.resume()
    }

    socket.setNoDelay(true)
    if (req.timeoutMs !== undefined) {
      socket.setTimeout(req.timeoutMs, () => { fail(new OllamadError('STALLED', `no data from ${url.host} in ${req.timeoutMs as number} ms`)) })
    }
    socket.once('connect', () => { socket.write(request) })
    socket.on('error', (e: NodeJS.ErrnoException) => {
      fail(mode === 'head' ? new OllamadError('REGISTRY_UNREACHABLE', `cannot reach ${url.host} (${e.code ?? e.message})`, { cause: e }) : e)
    })
    socket.once('end', () => {
      eof = true
      if (mode === 'head') fail(new OllamadError('REGISTRY_ERROR', `${url.host} closed the connection before a response`))
      else if (mode === 'stream' || mode === 'direct') onEof()
    })
    socket.once('close', () => {
      req.signal?.removeEventListener('abort', onAbort)
      if (mode === 'head' || mode === 'stream' || mode === 'direct') fail(new OllamadError('REGISTRY_ERROR', `${url.host} closed the connection`))
    })

    const drop = (): void => { if (mode !== 'done') { mode = 'done'; socket.destroy() } }
    // A reader's flow must hear of it; the other modes have nobody waiting.
    res.onDestroy = (e) => { if (mode === 'direct') fail(e ?? new OllamadError('ABORTED', 'the response was destroyed')); else drop() }
    res.onRead = () => {
      if (mode === 'held') {
        mode = 'stream'
        if (req.timeoutMs !== undefined) socket.setTimeout(req.timeoutMs)
        start(streamBytes)
      } else if (mode === 'stream') {
        socket.resume()
      }
    }
    res.readInto = async (into, clock, stallMs) => {
      if (failure !== undefined) throw failure
      if (mode !== 'held') throw new OllamadError('REGISTRY_ERROR', 'a direct body is read once')
      if (decode !== undefined) { await readPiecesInto(res, clock, stallMs, into); return }
      mode = 'direct'
      target = into
      const f = createBodyFlow(into, clock, stallMs, {
        pause: () => { socket.pause() },
        resume: () => { if (mode === 'direct') socket.resume() },
        close: drop
      })
      flow = f
      const feed = feeder = feedPieces(f, into)
      start(bytes => {
        const body = bytes.subarray(0, Math.min(bytes.byteLength, left))
        left -= body.byteLength
        return feed.take(body)
      })
      await f.done
    }
  })
}
