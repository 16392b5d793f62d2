import tls from 'node:tls'
import { OllamadError, errorMessage } from '../../errors.js'
import type { Clock } from '../../util/clock.js'
import { certificatePeer, type DataIdentity } from './identity.js'
import { DATA_ALPN, clientContext } from './tls-options.js'

export interface DialInit {
  peer: string
  host: string
  port: number
  identity: DataIdentity
  clock: Clock
  signal: AbortSignal
  /** The one ALPN protocol to speak; a holder that does not take it is unreachable for it. @default DATA_ALPN */
  alpn?: string
  /** Longest wait for the connection and its handshake; a port that does not answer in time is unreachable. @default 10000 */
  timeoutMs?: number
}

/** Opens a TLS connection to `peer`'s data port (not yet proven: see `proveDialled`). */
export function connectData (init: DialInit, extra: Record<string, unknown> = {}): tls.TLSSocket {
  // `extra` may hold `onread`, which Node takes for TLS too though its types leave it out.
  const socket = tls.connect({
    secureContext: clientContext(init.identity),
    ALPNProtocols: [init.alpn ?? DATA_ALPN],
    rejectUnauthorized: false,
    host: init.host,
    port: init.port,
    // The certificate proves a libp2p key, not a host name: proveDialled checks it.
    checkServerIdentity: () => undefined,
    ...extra
  } as tls.ConnectionOptions)
  socket.setNoDelay(true)
  return socket
}

/**
 * Waits for the handshake of a dialled data connection and proves, before anything is sent, that
 * the other end holds `peer`'s key and speaks the ALPN asked for. On failure `fail` gets the cause
 * (it closes the socket and keeps the first error, which `failure` returns), and this throws it
 * when the dial was aborted, else DATA_UNREACHABLE: the caller may go another way.
 */
export async function proveDialled (socket: tls.TLSSocket, init: DialInit, fail: (e: Error) => void, failure: () => Error | undefined): Promise<void> {
  const alpn = init.alpn ?? DATA_ALPN
  const onAbort = (): void => { fail(new OllamadError('ABORTED', 'dial aborted', { cause: init.signal.reason })) }
  init.signal.addEventListener('abort', onAbort, { once: true })
  const timeoutMs = init.timeoutMs ?? 10_000
  const dialTimer = init.clock.setTimeout(() => { fail(new Error(`no handshake in ${timeoutMs} ms`)) }, timeoutMs)
  try {
    await new Promise<void>((resolve, reject) => {
      if (failure() !== undefined) { reject(failure()); return }
      socket.once('secureConnect', resolve)
      socket.once('close', () => { reject(failure()) })
    })
    // A holder that does not speak this protocol (an older one) selects none.
    if (socket.alpnProtocol !== alpn) throw new Error(`it does not speak ${alpn}`)
    await certificatePeer(socket.getPeerCertificate().raw, init.peer)
  } catch (e) {
    fail(e instanceof Error ? e : new Error(String(e)))
    if (init.signal.aborted) throw failure() as Error
    throw new OllamadError('DATA_UNREACHABLE', `cannot open a data connection to ${init.peer} at ${init.host}:${init.port}: ${errorMessage(failure())}`)
  } finally {
    init.clock.clearTimeout(dialTimer)
    init.signal.removeEventListener('abort', onAbort)
  }
}
