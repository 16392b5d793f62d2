import { OllamadError } from '../../errors.js'
import type { Clock } from '../../util/clock.js'
import type { Logger } from '../../util/logger.js'
import type { ReadOptions } from './connection.js'
import { createDataDialer, type DataDialerInit } from './dialer.js'
import type { DataIdentity } from './identity.js'
import { createDataServer, type DataServerInit, type Members } from './server.js'
import { createTicketBook, type ServerDataConnection } from './tickets.js'

export interface DataPlaneComponents {
  identity: DataIdentity
  members: Members
  clock: Clock
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
 * The data plane: TLS 1.3 connections between members for bulk bytes, beside libp2p's control
 * plane. A request is made over libp2p; the holder answers with a one-time ticket, and the asker
 * presents it on a TLS connection whose two ends prove their libp2p identities.
 */
export interface DataPlane {
  start: () => Promise<void>
  stop: () => Promise<void>
  port: () => number
  /** Holder: a ticket for `peer`, redeemed within `timeoutMs`. */
  offer: (peer: string, timeoutMs: number, signal: AbortSignal) => DataOffer
  /** Asker: the bytes behind `ticket` from `peer`'s data port, read into `into`. */
  fetch: (peer: string, port: number, ticket: Uint8Array, into: Uint8Array, o: ReadOptions) => Promise<void>
  /** The peer left the swarm: its data connections close, both ways. */
  dropPeer: (peer: string) => void
}

export function createDataPlane (c: DataPlaneComponents, init: DataPlaneInit): DataPlane {
  const tickets = createTicketBook(c.clock)
  const server = createDataServer({ identity: c.identity, members: c.members, tickets, log: c.log }, init)
  const dialer = createDataDialer({ identity: c.identity, clock: c.clock }, init)
  return {
    start: server.listen,
    stop: async () => { dialer.close(); await server.close() },
    port: server.port,
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
