import { frame, readFrame, sendWithBackpressure } from '../../p2p/index.js'
import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import type { CID } from 'multiformats/cid'
import { BlobRequest, BlobResponse } from '../../../proto/blob.js'
import { OllamadError, isOllamadError } from '../../errors.js'
import { Bitmap } from '../../util/bitmap.js'
import { linkedController } from '../../util/abort.js'
import { sleep, type Clock } from '../../util/clock.js'
import type { RateLimiter } from '../../util/rate-limit.js'
import { createReachability, type DataPlane } from '../../p2p/index.js'
import { chunkCount, decodeChunkMap, digestBytes, digestHex, MAX_CHUNK_MAP_BYTES, type ChunkMap, type Digest } from '../../store/index.js'
import {
  BLOB_PROTOCOL, MAX_CHUNK_BYTES, MAX_HEADER_BYTES, MAX_MANIFEST_BYTES
} from './wire.js'
import { watchdog } from '../../util/watchdog.js'
import { bodyFor, decodeHeader, requestDirect, requestFailure, type Answer, type ChunkOptions, type RequestOptions } from './answer-read.js'

export interface BlobClientComponents {
  /** Opens a stream to `peer` (a peer id string) for `protocol`. */
  dial: (peer: string, protocol: string, signal: AbortSignal) => Promise<Stream>
  clock: Clock
  /** Requests go to a holder's data port when it takes them there, and chunk bytes come over it when the holder offers (see p2p/data). */
  data?: Pick<DataPlane, 'fetch' | 'direct' | 'exchange'>
}

export interface BlobClientInit {
  /** Longest silence while dialing, waiting for an answer or for its next bytes. @default 30000 */
  stallTimeoutMs?: number
}

export const DEFAULT_CLIENT_STALL_MS = 30_000

export type { ChunkOptions, RequestOptions } from './answer-read.js'

export interface ChunkMapOptions extends RequestOptions {
  expectedCid?: CID
  expectedSize?: number
}

export interface PeerHave { size: number, complete: boolean, bitmap: Bitmap }

export interface BlobClient {
  /** The peer's verified chunks of a blob; undefined when it holds none. */
  have: (peer: string, d: Digest, o?: RequestOptions) => Promise<PeerHave | undefined>
  /** Exactly `expectedLength` bytes of chunk `index`, or an error; not yet checked against any hash. */
  chunk: (peer: string, d: Digest, index: number, expectedLength: number, o?: ChunkOptions) => Promise<Uint8Array>
  /** Manifest bytes, checked against their digest. */
  manifest: (peer: string, d: Digest, o?: RequestOptions) => Promise<Uint8Array | undefined>
  /** The blob's chunk map, decoded and checked. */
  chunkMap: (peer: string, d: Digest, o?: ChunkMapOptions) => Promise<ChunkMap | undefined>
}

const { Status } = BlobResponse
const { Kind } = BlobRequest

export function createBlobClient (c: BlobClientComponents, init: BlobClientInit = {}): BlobClient {
  const stallMs = init.stallTimeoutMs ?? DEFAULT_CLIENT_STALL_MS
  // A holder whose data port could not be reached: its requests, and their bytes, go over libp2p for a while.
  const reach = createReachability(c.clock)
  const dataTo = (peer: string): boolean => c.data !== undefined && reach.tryData(peer)

  /** One request, on the peer's data port when it takes requests there, else on a new stream; NOT_FOUND comes back as undefined, other refusals as errors. */
  const request = async (peer: string, req: BlobRequest, maxBody: number, o: ChunkOptions = {}, exact = false): Promise<Answer | undefined> => {
    if (c.data !== undefined && c.data.direct(peer) && dataTo(peer)) {
      try {
        const answer = await requestDirect(c.data, peer, req, { maxBody, exact, stallMs: o.stallMs ?? stallMs }, o)
        reach.reachable(peer)
        return answer
      } catch (e) {
        if (!isOllamadError(e, 'DATA_UNREACHABLE')) throw e
        reach.unreachable(peer)
        req = { ...req, dataPlane: false }
      }
    }
    return await requestOnStream(peer, req, maxBody, o, exact)
  }

  /** One request on a new stream. */
  const requestOnStream = async (peer: string, req: BlobRequest, maxBody: number, o: ChunkOptions, exact: boolean): Promise<Answer | undefined> => {
    const { ac, release } = linkedController(o.signal)
    const stall = o.stallMs ?? stallMs
    const dog = watchdog(c.clock, stall, () => { ac.abort(new OllamadError('STALLED', `no bytes from ${peer} for ${stall} ms`)) })
    let stream: Stream | undefined
    try {
      stream = await c.dial(peer, BLOB_PROTOCOL, ac.signal)
      // The body may pile up while we pause for the rate cap; let it, up to what we accept anyway.
      stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, maxBody + MAX_HEADER_BYTES)
      const bs = byteStream(stream, { maxBufferSize: maxBody + MAX_HEADER_BYTES + 16 })
      await sendWithBackpressure(stream, frame(BlobRequest.encode(req)), ac.signal)
      await stream.close({ signal: ac.signal })
      dog.kick()
      const header = decodeHeader(peer, await readFrame(bs, MAX_HEADER_BYTES, ac.signal))
      dog.kick()
      const body = bodyFor(peer, header, { maxBody, exact }, o)
      if (body === undefined) return undefined
      if (header.ticket.byteLength > 0) {
        if (c.data === undefined || !req.dataPlane) throw new OllamadError('PEER_PROTOCOL', `${peer} offered a data ticket nobody asked for`)
        dog.stop()
        await c.data.fetch(peer, header.dataPort, header.ticket, body, {
          signal: ac.signal,
          stallMs: stall,
          onBytes: (n) => { o.onBytes?.(n); return o.limiter?.reserve(n) ?? 0 }
        })
        return { header, body }
      }
      for (let got = 0; got < body.byteLength;) {
        const list = await bs.read({ signal: ac.signal })
        if (list === null) throw new OllamadError('PEER_UNAVAILABLE', `${peer} closed the stream after ${got} of ${body.byteLength} bytes`)
        if (got + list.byteLength > body.byteLength) throw new OllamadError('PEER_PROTOCOL', `${peer} sent more than the ${body.byteLength} bytes it announced`)
        for (const part of list) { body.set(part, got); got += part.byteLength }
        dog.kick()
        o.onBytes?.(list.byteLength)
        const owe = o.limiter?.reserve(list.byteLength) ?? 0
        if (owe > 0) {
          // Waiting on our own cap is not the peer's stall; pausing lets backpressure reach it.
          if (stream.readStatus === 'readable') stream.pause()
          dog.stop()
          try { await sleep(c.clock, owe, ac.signal) } finally { dog.kick() }
          if (stream.readStatus === 'paused') stream.resume()
        }
      }
      return { header, body }
    } catch (e) {
      const err = ac.signal.aborted ? ac.signal.reason : e
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      throw requestFailure(peer, err, o)
    } finally {
      dog.stop()
      release()
    }
  }

  const ask = (kind: BlobRequest.Kind, d: Digest, index = 0): BlobRequest => ({ kind, digest: digestBytes(d) as Uint8Array<ArrayBuffer>, index, dataPlane: false })

  return {
    have: async (peer, d, o) => {
      const a = await request(peer, ask(Kind.HAVE, d), 0, o)
      if (a === undefined) return undefined
      const size = a.header.size
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new OllamadError('PEER_PROTOCOL', `${peer} claims a blob of ${size} bytes`)
      const chunks = chunkCount(Number(size))
      if (a.header.bitmap.byteLength !== Math.ceil(chunks / 8)) {
        throw new OllamadError('PEER_PROTOCOL', `${peer} sent a bitmap of ${a.header.bitmap.byteLength} bytes for ${chunks} chunks`)
      }
      return { size: Number(size), complete: a.header.complete, bitmap: new Bitmap(chunks, a.header.bitmap) }
    },
    chunk: async (peer, d, index, expectedLength, o) => {
      if (!Number.isInteger(expectedLength) || expectedLength < 0 || expectedLength > MAX_CHUNK_BYTES) {
        throw new OllamadError('INVALID_REQUEST', `a chunk of ${expectedLength} bytes`)
      }
      const req = ask(Kind.CHUNK, d, index)
      let a: Answer | undefined
      try {
        a = await request(peer, { ...req, dataPlane: dataTo(peer) }, expectedLength, o, true)
      } catch (e) {
        if (!isOllamadError(e) || e.code !== 'DATA_UNREACHABLE') throw e
        // A firewall or an older holder: the same request, its bytes on the stream.
        reach.unreachable(peer)
        a = await request(peer, req, expectedLength, o, true)
      }
      if (a === undefined) throw new OllamadError('BLOB_NOT_FOUND', `${peer} does not hold chunk ${index} of ${d}`)
      return a.body
    },
    manifest: async (peer, d, o) => {
      const a = await request(peer, ask(Kind.MANIFEST, d), MAX_MANIFEST_BYTES, o)
      if (a === undefined) return undefined
      if (createHash('sha256').update(a.body).digest('hex') !== digestHex(d)) {
        throw new OllamadError('DIGEST_MISMATCH', `${peer} sent a manifest that does not match ${d}`)
      }
      return a.body
    },
    chunkMap: async (peer, d, o = {}) => {
      const a = await request(peer, ask(Kind.CHUNK_MAP, d), MAX_CHUNK_MAP_BYTES, o)
      return a === undefined ? undefined : decodeChunkMap(a.body, { cid: o.expectedCid, size: o.expectedSize, digest: d })
    }
  }
}
