import { OllamadError } from '../../errors.js'
import type { Clock } from '../../util/clock.js'
import type { Logger } from '../../util/logger.js'
import type { ExchangeOptions, ReadOptions } from './connection.js'
import type { RequestHandler, RequestService } from './request-server.js'
import { createDataDialer, type DataDialerInit, type FramesLease, type FramesOptions } from './dialer.js'
import type { DataIdentity } from './identity.js'
import { createDataServer, type DataServerInit, type Members } from './server.js'
import { createTicketBook, type ServerDataConnection } from './tickets.js'
import { DATA_ALPN_REQUESTS } from './tls-options.js'

export interface DataPlaneComponents {
  identity: DataIdentity
  members: Members
  clock: Clock
  /** The data port a peer takes requests on (from its node record), if it told one. */
  portOf?: (peer: string) => number | undefined
  log?: Logger
}

export interface DataPlaneInit extends DataServerInit, DataDialerInit {}

/** A request's bytes, offered on the data plane: the asker gets `ticket` and `port` over libp2p. */
export interface DataOffer {
  ticket: Uint8Array<ArrayBuffer>
  port: number
  /** The data connection that presented the ticket, to send the bytes on. */
  connection: Promise<ServerDataConnection>
}

/**
 * The data plane: TLS 1.3 connections between members, whose two ends prove their libp2p
 * identities, beside libp2p's control plane. A peer that tells its data port in its record takes
 * blob requests on such a connection and answers each on it. To an older peer a request goes
 * over libp2p; the holder answers with a one-time ticket, and the asker presents it on a data
 * connection to take the bytes.
 */
export interface DataPlane {
  start: () => Promise<void>
  stop: () => Promise<void>
  port: () => number
  /**
   * Holder: what answers requests made on data connections of ALPN `alpn` (blob requests by
   * default), and the largest request it takes (one handler per ALPN; a later one replaces it).
   */
  handle: (handler: RequestHandler, maxRequestBytes: number, alpn?: string) => void
  /** Holder: requests of this ALPN are no longer taken (new ones end their connection). */
  unhandle: (alpn: string) => void
  /** Asker: whether `peer` takes requests on its data port (it told one, and is connected). */
  direct: (peer: string) => boolean
  /** Asker: a framed request to `peer`'s data port, answered on the same connection; resolves with the answer's header. */
  exchange: (peer: string, request: Uint8Array, o: ExchangeOptions) => Promise<Uint8Array>
  /** Asker: a framed request to `peer`'s data port on a connection of ALPN `alpn`, whose answer comes as frames (see FramesLease). */
  frames: (peer: string, alpn: string, request: Uint8Array, o: FramesOptions) => Promise<FramesLease>
  /** Holder: a ticket for `peer`, redeemed within `timeoutMs`. */
  offer: (peer: string, timeoutMs: number, signal: AbortSignal) => DataOffer
  /** Asker: the bytes behind `ticket` from `peer`'s data port, read into `into`. */
  fetch: (peer: string, port: number, ticket: Uint8Array, into: Uint8Array, o: ReadOptions) => Promise<void>
  /** The peer left the swarm: its data connections close, both ways. */
  dropPeer: (peer: string) => void
}

export function createDataPlane (c: DataPlaneComponents, init: DataPlaneInit): DataPlane {
  const tickets = createTicketBook(c.clock)
  const services = new Map<string, RequestService>()
  const server = createDataServer({ identity: c.identity, members: c.members, tickets, requests: (alpn) => services.get(alpn), log: c.log }, init)
  const dialer = createDataDialer({ identity: c.identity, clock: c.clock }, init)
  const portOf = (peer: string): number | undefined => {
    const port = c.portOf?.(peer)
    return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined
  }
  /** Where `peer` takes requests: the address of its libp2p connection and the data port it told. */
  const target = (peer: string): { host: string, port: number } => {
    const host = c.members.addressOf(peer)
    const port = portOf(peer)
    if (host === undefined || port === undefined) throw new OllamadError('DATA_UNREACHABLE', `${peer} has no data port to take requests on`)
    return { host, port }
  }
  return {
    start: server.listen,
    stop: async () => { dialer.close(); await server.close() },
    port: server.port,
    handle: (handler, maxRequestBytes, alpn = DATA_ALPN_REQUESTS) => { services.set(alpn, { handler, maxRequestBytes }) },
    unhandle: (alpn) => { services.delete(alpn) },
    direct: (peer) => portOf(peer) !== undefined && c.members.addressOf(peer) !== undefined,
    exchange: async (peer, request, o) => {
      const { host, port } = target(peer)
      return await dialer.exchange(peer, host, port, request, o)
    },
    frames: async (peer, alpn, request, o) => {
      const { host, port } = target(peer)
      return await dialer.frames(peer, host, port, alpn, request, o)
    },
    offer: (peer, timeoutMs, signal) => ({ ...tickets.issue(peer, timeoutMs, signal), port: server.port() }),
    fetch: async (peer, port, ticket, into, o) => {
      const host = c.members.addressOf(peer)
      if (host === undefined) throw new OllamadError('PEER_UNAVAILABLE', `${peer} is not connected`)
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new OllamadError('PEER_PROTOCOL', `${peer} named data port ${port}`)
      await dialer.fetch(peer, host, port, ticket, into, o)
    },
    dropPeer: (peer) => { dialer.dropPeer(peer); server.dropPeer(peer) }
  }
}
