import { randomBytes } from 'node:crypto'
import { OllamadError } from '../../errors.js'
import type { Clock } from '../../util/clock.js'

export const TICKET_BYTES = 16

/** A data connection as the holder sees it once a ticket chose it: send the body, then give it back. */
export interface ServerDataConnection {
  readonly peer: string
  write: (data: Uint8Array, signal: AbortSignal) => Promise<void>
  /** The body is sent: the connection may present its next ticket. */
  release: () => void
  destroy: (e?: Error) => void
}

export interface TicketBook {
  /** A one-time ticket for `peer`; the promise gives the data connection that presents it, or fails after `timeoutMs`. */
  issue: (peer: string, timeoutMs: number, signal: AbortSignal) => { ticket: Uint8Array<ArrayBuffer>, connection: Promise<ServerDataConnection> }
  /** Hands `conn` to the request that issued `ticket`; false when no such ticket is waiting for this peer. */
  redeem: (ticket: Uint8Array, conn: ServerDataConnection) => boolean
  waiting: () => number
}

/** Tickets tie a data connection to one request that came over libp2p, so the data port serves nothing on its own. */
export function createTicketBook (clock: Clock): TicketBook {
  const waiting = new Map<string, { peer: string, take: (c: ServerDataConnection) => void }>()
  return {
    issue: (peer, timeoutMs, signal) => {
      const ticket = randomBytes(TICKET_BYTES)
      const key = ticket.toString('hex')
      const connection = new Promise<ServerDataConnection>((resolve, reject) => {
        const end = (): void => {
          waiting.delete(key)
          clock.clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
        }
        const onAbort = (): void => { end(); reject(signal.reason) }
        const timer = clock.setTimeout(() => { end(); reject(new OllamadError('STALLED', `${peer} did not present its data ticket in ${timeoutMs} ms`)) }, timeoutMs)
        if (signal.aborted) { onAbort(); return }
        signal.addEventListener('abort', onAbort, { once: true })
        waiting.set(key, { peer, take: (c) => { end(); resolve(c) } })
      })
      return { ticket: new Uint8Array(ticket), connection }
    },
    redeem: (ticket, conn) => {
      const w = waiting.get(Buffer.from(ticket).toString('hex'))
      if (w === undefined || w.peer !== conn.peer) return false
      w.take(conn)
      return true
    },
    waiting: () => waiting.size
  }
}
