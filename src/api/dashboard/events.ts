import type { ServerResponse } from 'node:http'
import type { Clock, Timer } from '../../util/clock.js'
import { throttle } from '../../util/throttle.js'
import { OllamadError } from '../../errors.js'

export interface SnapshotStreamComponents {
  clock: Clock
  /** The current snapshot, as JSON. */
  snapshot: () => string
  /** Subscribes to whatever changes the snapshot; returns the unsubscribe. */
  onChange: (l: () => void) => () => void
}

export interface SnapshotStreamInit {
  /** At most one snapshot this often, however fast the cluster changes. @default 1000 */
  minIntervalMs?: number
  /** A comment line this often keeps proxies from closing an idle stream. @default 15000 */
  keepaliveMs?: number
  /** Streams open at once; more get 503. @default 32 */
  maxClients?: number
}

export interface SnapshotStream {
  /** Serves one client until it goes away (or `signal` aborts). */
  serve: (res: ServerResponse, signal: AbortSignal) => Promise<void>
  clients: () => number
}

/**
 * Server-sent events of the dashboard: a snapshot when a client connects and after each change,
 * at most once a second. One snapshot is built per change for every client, and nothing runs
 * while no client listens.
 */
export function createSnapshotStream (c: SnapshotStreamComponents, init: SnapshotStreamInit = {}): SnapshotStream {
  const maxClients = init.maxClients ?? 32
  const clients = new Set<ServerResponse>()
  let off: (() => void) | undefined
  let keepalive: Timer | undefined

  const send = (res: ServerResponse, text: string): void => { if (!res.writableEnded) res.write(text) }
  const broadcast = throttle(c.clock, init.minIntervalMs ?? 1000, () => {
    if (clients.size === 0) return
    const msg = `event: snapshot\ndata: ${c.snapshot()}\n\n`
    for (const res of clients) send(res, msg)
  })
  const ping = (): void => {
    for (const res of clients) send(res, ': keepalive\n\n')
    keepalive = c.clock.setTimeout(ping, init.keepaliveMs ?? 15_000)
    keepalive.unref?.()
  }

  const join = (res: ServerResponse): void => {
    clients.add(res)
    if (off !== undefined) return
    off = c.onChange(broadcast)
    ping()
  }
  const leave = (res: ServerResponse): void => {
    clients.delete(res)
    if (clients.size > 0 || off === undefined) return
    off()
    off = undefined
    broadcast.cancel()
    if (keepalive !== undefined) c.clock.clearTimeout(keepalive)
  }

  return {
    clients: () => clients.size,
    serve: async (res, signal) => {
      if (clients.size >= maxClients) throw new OllamadError('QUEUE_FULL', `${maxClients} dashboard streams are open on this node already`)
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' })
      res.flushHeaders()
      send(res, `retry: 3000\nevent: snapshot\ndata: ${c.snapshot()}\n\n`)
      join(res)
      try {
        await new Promise<void>(resolve => {
          if (signal.aborted) { resolve(); return }
          signal.addEventListener('abort', () => { resolve() }, { once: true })
          res.once('close', resolve)
        })
      } finally {
        leave(res)
        res.end()
      }
    }
  }
}
