import tls from 'node:tls'
import type { AddressInfo, Socket } from 'node:net'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Logger } from '../../util/logger.js'
import { certificatePeer, type DataIdentity } from './identity.js'
import { TICKET_BYTES, type ServerDataConnection, type TicketBook } from './tickets.js'
import { DATA_ALPN, DATA_ALPNS, plainIp, tlsOptions } from './tls-options.js'
import { writeWithBackpressure } from './write.js'
import { serveRequests, type RequestService } from './request-server.js'

/** Who may use the data plane: current members of the swarm, as libp2p knows them. */
export interface Members {
  /** The peer has a live libp2p connection here (so it holds the swarm key now). */
  isMember: (peer: string) => boolean
  /** Some member's libp2p connection comes from this address: anyone else gets no TLS handshake at all. */
  isMemberAddress: (ip: string) => boolean
  /** Where to dial a member's data port: the address of its libp2p connection. */
  addressOf: (peer: string) => string | undefined
}

export interface DataServerComponents {
  identity: DataIdentity
  members: Members
  tickets: TicketBook
  /** What answers requests made on a data connection of this ALPN (all but ollamad-data/1), once one is registered. */
  requests: (alpn: string) => RequestService | undefined
  log?: Logger
}

export interface DataServerInit {
  host: string
  port: number
  /** @default 10000 */
  handshakeTimeoutMs?: number
  /** A connection with no ticket to serve for this long is closed. @default 60000 */
  idleTimeoutMs?: number
  /** @default 256 */
  maxConnections?: number
  /** Connections one member may hold here at once (its requests in flight, inference streams and idle ones it keeps). @default 64 */
  maxConnectionsPerPeer?: number
}

export interface DataServer {
  listen: () => Promise<void>
  close: () => Promise<void>
  port: () => number
  /** Closes the peer's data connections (it left the swarm). */
  dropPeer: (peer: string) => void
}

export function createDataServer (c: DataServerComponents, init: DataServerInit): DataServer {
  const byPeer = new Map<string, Set<Socket>>()
  const all = new Set<Socket>()
  const server = tls.createServer({
    // Newer askers send their requests on the connection; older ones present tickets.
    ...tlsOptions(c.identity, DATA_ALPNS),
    requestCert: true,
    handshakeTimeout: init.handshakeTimeoutMs ?? 10_000
  })
  server.maxConnections = init.maxConnections ?? 256
  const idleMs = init.idleTimeoutMs ?? 60_000
  const perPeer = init.maxConnectionsPerPeer ?? 64

  // Before TLS: an address that no member connects from never sees our certificate.
  server.on('connection', (socket: Socket) => {
    all.add(socket)
    socket.once('close', () => { all.delete(socket) })
    if (!c.members.isMemberAddress(plainIp(socket.remoteAddress))) {
      c.log?.debug(`data connection from ${socket.remoteAddress ?? '?'} refused: no member there`)
      socket.destroy()
    }
  })
  server.on('tlsClientError', (e) => { c.log?.debug(`data handshake failed: ${errorMessage(e)}`) })
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.on('error', () => {})
    certificatePeer(socket.getPeerCertificate().raw).then(peer => {
      if (!c.members.isMember(peer)) throw new OllamadError('PEER_PROTOCOL', `${peer} is not a member now`)
      if (socket.destroyed || !track(socket, peer)) return
      const alpn = String(socket.alpnProtocol)
      if (alpn === DATA_ALPN) serve(socket, peer)
      else serveRequests(socket, peer, { service: () => c.requests(alpn), isMember: c.members.isMember, log: c.log })
    }).catch(e => {
      c.log?.debug(`data connection from ${socket.remoteAddress ?? '?'} refused: ${errorMessage(e)}`)
      socket.destroy()
    })
  })

  /**
   * Every member's connection is known by peer, so it closes when the peer leaves; an idle one
   * closes by itself. One member may not take every connection the port allows.
   */
  const track = (socket: tls.TLSSocket, peer: string): boolean => {
    const mine = byPeer.get(peer) ?? new Set()
    if (mine.size >= perPeer) {
      c.log?.debug(`data connection from ${peer} refused: it holds ${mine.size} already`)
      socket.destroy()
      return false
    }
    c.log?.debug(`data connection from ${peer} at ${socket.remoteAddress ?? '?'} (${String(socket.alpnProtocol)})`)
    byPeer.set(peer, mine)
    mine.add(socket)
    socket.setNoDelay(true)
    socket.setTimeout(idleMs, () => { socket.destroy() })
    socket.on('close', () => { mine.delete(socket); if (mine.size === 0 && byPeer.get(peer) === mine) byPeer.delete(peer) })
    return true
  }

  /** Older askers: a ticket per body, the request itself having come over libp2p. */
  const serve = (socket: tls.TLSSocket, peer: string): void => {
    let pending = Buffer.alloc(0)
    let busy = false
    const conn: ServerDataConnection = {
      peer,
      write: async (data, signal) => { await writeWithBackpressure(socket, data, signal) },
      release: () => { busy = false; socket.setTimeout(idleMs); next() },
      destroy: (e) => { socket.destroy(e) }
    }
    const next = (): void => {
      if (busy || pending.byteLength < TICKET_BYTES) return
      const ticket = pending.subarray(0, TICKET_BYTES)
      pending = pending.subarray(TICKET_BYTES)
      busy = true
      socket.setTimeout(0)
      if (!c.tickets.redeem(ticket, conn)) {
        c.log?.debug(`${peer} presented a data ticket that is not waiting for it`)
        socket.destroy()
      }
    }
    socket.on('data', (d: Buffer) => {
      // A puller sends one ticket per body; anything more than a few queued is not ours to hold.
      if (pending.byteLength + d.byteLength > 4 * TICKET_BYTES) { socket.destroy(); return }
      pending = Buffer.concat([pending, d])
      next()
    })
  }

  return {
    listen: async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(init.port, init.host, () => { server.off('error', reject); resolve() })
      })
    },
    close: async () => {
      if (!server.listening) return
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      for (const s of all) s.destroy()
      byPeer.clear()
      await closed
    },
    port: () => (server.address() as AddressInfo | null)?.port ?? 0,
    dropPeer: (peer) => {
      for (const s of byPeer.get(peer) ?? []) s.destroy()
      byPeer.delete(peer)
    }
  }
}
