import type { TLSSocket } from 'node:tls'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Logger } from '../../util/logger.js'
import { takeFrame } from '../framing.js'
import { writeWithBackpressure } from './write.js'

/** A data connection that carries requests (ALPN ollamad-data/2), as the holder answers one on it. */
export interface RequestChannel {
  readonly peer: string
  /** Aborts when the connection closes: the asker gave up. */
  readonly signal: AbortSignal
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /**
   * Lifts the connection's idle timeout while an answer is slow to come for a good reason (a model
   * loading for an inference request); the function returned puts it back.
   */
  hold: () => () => void
  destroy: (e?: Error) => void
}

/** Answers one request (a frame's payload) on its channel; the next request is read once it settles. */
export type RequestHandler = (request: Uint8Array, channel: RequestChannel) => Promise<void>

/** What the node registered to answer requests, with the largest request its protocol allows. */
export interface RequestService { handler: RequestHandler, maxRequestBytes: number }

export interface RequestServeOptions {
  /** The service the node registered, if any. */
  service: () => RequestService | undefined
  isMember: (peer: string) => boolean
  log?: Logger
}

/**
 * Takes requests on one data connection, one at a time: the asker writes a length-prefixed request
 * and reads the whole answer before it writes the next, and ends the connection to withdraw. A
 * request over the size limit, requests piling up, a handler that fails, or a peer that is no
 * longer a member end the connection.
 */
export function serveRequests (socket: TLSSocket, peer: string, o: RequestServeOptions): void {
  const ac = new AbortController()
  socket.once('close', () => { ac.abort(new OllamadError('PEER_UNAVAILABLE', `${peer} closed the data connection`)) })
  const channel: RequestChannel = {
    peer,
    signal: ac.signal,
    write: async (data, signal) => { await writeWithBackpressure(socket, data, signal) },
    hold: () => {
      const ms = socket.timeout ?? 0
      socket.setTimeout(0)
      return () => { if (!socket.destroyed) socket.setTimeout(ms) }
    },
    destroy: (e) => { socket.destroy(e) }
  }
  let pending = Buffer.alloc(0)
  let busy = false
  const drop = (why: string): void => { o.log?.debug(`data requests from ${peer}: ${why}`); socket.destroy() }

  const next = (s: RequestService): void => {
    if (busy || socket.destroyed) return
    let got: ReturnType<typeof takeFrame>
    try { got = takeFrame(pending, s.maxRequestBytes) } catch (e) { drop(errorMessage(e)); return }
    if (got === undefined) return
    pending = Buffer.from(got.rest)
    if (!o.isMember(peer)) { drop('not a member now'); return }
    busy = true
    // The connection's idle timeout stays armed: an answer that the asker stops reading (a BUSY
    // header included) ends the connection after it, not never.
    s.handler(got.frame, channel).then(() => {
      busy = false
      next(s)
    }, (e: unknown) => { drop(errorMessage(e)) })
  }

  socket.on('data', (d: Buffer) => {
    const s = o.service()
    if (s === undefined) { drop('nothing serves requests here'); return }
    // Requests are small and come one at a time: more than two waiting is not a well-behaved asker.
    if (pending.byteLength + d.byteLength > 2 * (s.maxRequestBytes + 4)) { drop('too many bytes waiting'); return }
    pending = Buffer.concat([pending, d])
    next(s)
  })
}
