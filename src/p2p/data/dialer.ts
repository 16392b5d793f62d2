import { OllamadError } from '../../errors.js'
import type { Clock, Timer } from '../../util/clock.js'
import { dialDataConnection, type ClientDataConnection, type ExchangeOptions, type ReadOptions } from './connection.js'
import { dialFrameConnection, type FrameConnection } from './frame-connection.js'
import type { DialInit } from './handshake.js'
import type { DataIdentity } from './identity.js'
import { DATA_ALPN, DATA_ALPN_REQUESTS } from './tls-options.js'

export interface DataDialerComponents {
  identity: DataIdentity
  clock: Clock
}

export interface DataDialerInit {
  /** Idle connections kept per peer for the next body. @default 8 */
  maxIdlePerPeer?: number
  /** An idle connection of ours is closed after this long (below the holders' idle timeout, so we close first). @default 30000 */
  keepIdleMs?: number
}

export interface DataDialer {
  /** Presents `ticket` on a data connection to `peer` at host:port and reads its body into `into`. */
  fetch: (peer: string, host: string, port: number, ticket: Uint8Array, into: Uint8Array, o: ReadOptions) => Promise<void>
  /** Sends `request` (a framed request) on a requests connection to `peer` at host:port and reads its answer; resolves with the header. */
  exchange: (peer: string, host: string, port: number, request: Uint8Array, o: ExchangeOptions) => Promise<Uint8Array>
  /**
   * Sends `request` on a frames connection (ALPN `alpn`) to `peer` at host:port, for an answer that
   * comes as frames; `done(true)` once the answer's last frame is read gives the connection back for
   * the next request, `done(false)` closes it.
   */
  frames: (peer: string, host: string, port: number, alpn: string, request: Uint8Array, o: FramesOptions) => Promise<FramesLease>
  dropPeer: (peer: string) => void
  close: () => void
}

export interface FramesOptions {
  signal: AbortSignal
  /** Longest wait for a new connection's handshake. */
  dialMs: number
}

export interface FramesLease { conn: FrameConnection, done: (reuse: boolean) => void }

/** What the pool keeps: either kind of connection. */
interface Pooled { usable: () => boolean, destroy: (e?: Error) => void }
interface Idle { conn: Pooled, timer: Timer }

/** The puller's side: a few TLS connections per peer, reused body after body (one body on each at a time). */
export function createDataDialer (c: DataDialerComponents, init: DataDialerInit = {}): DataDialer {
  const maxIdle = init.maxIdlePerPeer ?? 8
  const idleMs = init.keepIdleMs ?? 30_000
  const idle = new Map<string, Idle[]>()
  /** Connections in use, by peer: a peer that leaves takes them too (a dead host sends no FIN to wake a reader). */
  const lent = new Map<Pooled, string>()
  /** Dials under way for the pool, by peer. */
  const spares = new Map<AbortController, string>()
  let closed = false

  const take = <T extends Pooled>(key: string): T | undefined => {
    const list = idle.get(key) ?? []
    for (let it = list.pop(); it !== undefined; it = list.pop()) {
      c.clock.clearTimeout(it.timer)
      if (it.conn.usable()) return it.conn as T
      it.conn.destroy()
    }
    idle.delete(key)
    return undefined
  }

  const giveBack = (key: string, conn: Pooled): void => {
    const list = idle.get(key) ?? []
    if (!conn.usable() || list.length >= maxIdle) { conn.destroy(); return }
    const it: Idle = {
      conn,
      timer: c.clock.setTimeout(() => {
        const i = list.indexOf(it)
        if (i >= 0) list.splice(i, 1)
        conn.destroy()
      }, idleMs)
    }
    list.push(it)
    idle.set(key, list)
  }

  const keyOf = (peer: string, host: string, port: number, alpn: string): string => `${peer} ${host} ${port} ${alpn}`
  /**
   * A connection for the pool, dialed before anything needs it. Why: a request we withdraw while
   * it waits (another holder serves the chunk first) ends its connection, as the answer may still
   * come; the next request to that holder then waited for a handshake (median 250 ms, p90 0.6 s in
   * an 8-host pull on two cores, where withdrawals ended ~100 connections).
   */
  const spare = (peer: string, host: string, port: number, alpn: string, timeoutMs: number): void => {
    if (closed) return
    const ac = new AbortController()
    spares.set(ac, peer)
    dialDataConnection({ peer, host, port, identity: c.identity, clock: c.clock, signal: ac.signal, alpn, timeoutMs })
      .then(conn => { if (ac.signal.aborted) conn.destroy(); else giveBack(keyOf(peer, host, port, alpn), conn) }, () => {})
      .finally(() => spares.delete(ac))
  }
  const failed = (peer: string, conn: Pooled, e: unknown): OllamadError => {
    conn.destroy()
    return e instanceof OllamadError ? e : new OllamadError('PEER_UNAVAILABLE', `${peer}: ${String(e)}`, { cause: e })
  }

  /** Writes `first` on an idle connection of that kind (or a new one) and runs `then`; a failure closes the connection. */
  const use = async <T>(peer: string, host: string, port: number, alpn: string, first: Uint8Array, o: ReadOptions, then: (conn: ClientDataConnection) => Promise<T>): Promise<T> => {
    const { signal } = o
    const key = keyOf(peer, host, port, alpn)
    // A port that takes no handshake within the request's stall time is unreachable: its requests go over libp2p.
    const conn = take<ClientDataConnection>(key) ?? await dialDataConnection({ peer, host, port, identity: c.identity, clock: c.clock, signal, alpn, timeoutMs: o.stallMs })
    lent.set(conn, peer)
    let out: T
    try {
      // The read is armed before the write: node:tls reports a write done a turn later, and on a
      // busy machine the answer can land first (taken for bytes nobody asked for, the peer banned).
      const answer = then(conn)
      out = (await Promise.all([conn.write(first, signal), answer]))[1]
    } catch (e) {
      if (signal.aborted) spare(peer, host, port, alpn, o.stallMs)
      throw failed(peer, conn, e)
    } finally {
      lent.delete(conn)
    }
    giveBack(key, conn)
    return out
  }

  return {
    fetch: async (peer, host, port, ticket, into, o) => {
      await use(peer, host, port, DATA_ALPN, ticket, o, async conn => { await conn.readInto(into, o) })
    },
    exchange: async (peer, host, port, request, o) => await use(peer, host, port, DATA_ALPN_REQUESTS, request, o, async conn => await conn.readAnswer(o)),
    frames: async (peer, host, port, alpn, request, o) => {
      const key = keyOf(peer, host, port, alpn)
      const init: DialInit = { peer, host, port, identity: c.identity, clock: c.clock, signal: o.signal, alpn, timeoutMs: o.dialMs }
      const conn = take<FrameConnection>(key) ?? await dialFrameConnection(init)
      lent.set(conn, peer)
      try {
        await conn.write(request, o.signal)
      } catch (e) {
        lent.delete(conn)
        throw failed(peer, conn, e)
      }
      let settled = false
      return {
        conn,
        done: (reuse) => {
          if (settled) return
          settled = true
          lent.delete(conn)
          if (reuse) giveBack(key, conn); else conn.destroy()
        }
      }
    },
    dropPeer: (peer) => {
      for (const [ac, owner] of spares) if (owner === peer) ac.abort()
      for (const [conn, owner] of lent) if (owner === peer) conn.destroy(new OllamadError('PEER_UNAVAILABLE', `${peer} left the swarm`))
      for (const [key, list] of idle) {
        if (!key.startsWith(`${peer} `)) continue
        for (const it of list) { c.clock.clearTimeout(it.timer); it.conn.destroy() }
        idle.delete(key)
      }
    },
    close: () => {
      closed = true
      for (const ac of spares.keys()) ac.abort()
      for (const conn of lent.keys()) conn.destroy()
      for (const list of idle.values()) for (const it of list) { c.clock.clearTimeout(it.timer); it.conn.destroy() }
      idle.clear()
    }
  }
}
