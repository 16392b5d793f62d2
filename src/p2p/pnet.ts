/**
 * Our own pre-shared-key connection protector, wire-compatible with @libp2p/pnet 3.0.27 (same
 * 24-byte nonce exchange, same XSalsa20 keystream keyed by the PSK). Why not pnet itself: its
 * cipher, the `xsalsa20` package, keeps every cipher's state in one shared WebAssembly memory;
 * when one cipher grows that memory the others' views detach and each of them grows it again, so
 * a busy connection hits the 62.5 MiB limit after ~50 MB and throws (inside an event listener, so
 * the process dies). pnet also encrypts its whole send queue in one call. Here each direction has
 * its own keystream (XSalsaStream, libsodium's streaming XSalsa20), at most 1 MiB is encrypted per send, a decrypt failure
 * aborts only its connection, and keys are wiped on close. Upstream has a fix merged but not
 * released (js-libp2p PR #3585); drop this file once a pnet release carries it.
 */
import { InvalidParametersError } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import type { SendResult } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import { XSalsaStream } from './xsalsa-stream.js'

const NONCE_LENGTH = 24
/** Most plaintext bytes encrypted per socket write; the rest waits, once, unencrypted. */
const MAX_SEND = 1024 * 1024

// PSK file parsing: same format and result as @libp2p/pnet decodeV1PSK
//   /key/swarm/psk/1.0.0/\n/base16/\n<64 hex chars>

export function decodeV1PSK (pskBuffer: Uint8Array): { tag: string, codecName: string, psk: Uint8Array } {
  const [tag = '', codecName = '', hex = ''] = new TextDecoder().decode(pskBuffer).split(/\r\n|\r|\n/g)
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InvalidParametersError('Your private shared key is invalid')
  return { tag, codecName, psk: Uint8Array.from(Buffer.from(hex, 'hex')) }
}

// ---------------------------------------------------------------------------

interface BoxInit {
  maConn: MultiaddrConnection
  localNonce: Uint8Array
  remoteNonce: Uint8Array
  psk: Uint8Array
  log: MultiaddrConnection['log']
}

class BoundedBoxConnection extends AbstractMultiaddrConnection {
  private readonly maConn: MultiaddrConnection
  private readonly inbound: XSalsaStream
  private readonly outbound: XSalsaStream
  private wiped = false

  constructor (init: BoxInit) {
    super({
      log: init.log,
      remoteAddr: init.maConn.remoteAddr,
      direction: init.maConn.direction,
      // processSendQueue hands at most this much plaintext to sendData() at a time;
      // once the socket is full the rest stays queued (once, unencrypted) until 'drain'
      maxMessageSize: MAX_SEND
    })
    this.maConn = init.maConn
    this.inbound = new XSalsaStream(init.remoteNonce, init.psk)
    this.outbound = new XSalsaStream(init.localNonce, init.psk)

    this.maConn.addEventListener('message', (evt) => {
      if (this.wiped) return
      // an exception thrown from an EventTarget listener is an uncaughtException
      // that kills the process (seen with stock pnet), so turn it into an abort
      try {
        // Decrypted in place: the socket hands each read buffer to us alone, and a fresh copy
        // per read was a large share of the receiver's garbage.
        const data = evt.data
        if (data instanceof Uint8Array) {
          this.onData(this.inbound.update(data, data))
        } else {
          for (const buf of data) this.onData(this.inbound.update(buf, buf))
        }
      } catch (err: any) {
        this.abort(err)
      }
    })
    this.maConn.addEventListener('drain', () => { this.onMuxerDrain() })
    this.maConn.addEventListener('close', (evt) => {
      if (evt.error != null) {
        if (evt.local) this.abort(evt.error)
        else this.onRemoteReset()
      } else {
        this.onTransportClosed()
      }
    })
    this.addEventListener('close', () => {
      this.wiped = true
      this.inbound.final()
      this.outbound.final()
    })
  }

  sendData (data: Uint8ArrayList): SendResult {
    if (this.wiped) throw new Error('pnet: connection closed')
    // data is at most MAX_SEND bytes (maxMessageSize). Encrypt each piece straight into
    // one output buffer: no intermediate concatenation, and one socket write per batch
    // rather than one per 12-byte yamux header.
    const out = Buffer.allocUnsafe(data.byteLength) // every byte is written below: no zero fill
    let off = 0
    for (const buf of data) {
      this.outbound.update(buf, out.subarray(off, off + buf.byteLength))
      off += buf.byteLength
    }
    return { sentBytes: data.byteLength, canSendMore: this.maConn.send(out) }
  }

  async sendClose (options?: AbortOptions): Promise<void> { await this.maConn.close(options) }
  sendReset (err: Error): void { this.maConn.abort(err) }
  sendPause (): void { this.maConn.pause() }
  sendResume (): void { this.maConn.resume() }
}

export interface BoundedPSKInit {
  /** swarm.key file contents (v1 format, as produced by generateKey from @libp2p/pnet) */
  psk: Uint8Array
  /** nonce-exchange timeout in ms when the upgrader passes no signal (default 1000, as stock) */
  timeout?: number
}

class BoundedPreSharedKeyConnectionProtector implements ConnectionProtector {
  public readonly tag: string
  private readonly psk: Uint8Array
  private readonly timeout: number
  readonly [Symbol.toStringTag] = 'ollamad/pnet'

  constructor (init: BoundedPSKInit) {
    const decoded = decodeV1PSK(init.psk)
    this.psk = decoded.psk
    this.tag = decoded.tag
    this.timeout = init.timeout ?? 1000
  }

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    if (connection == null) throw new InvalidParametersError('No connection for the handshake provided')
    const log = connection.log.newScope('pnet')
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
    const opts = options ?? { signal: AbortSignal.timeout(this.timeout) }
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([
      bytes.read({ bytes: NONCE_LENGTH, ...opts }),
      bytes.write(localNonce, opts)
    ])
    log('exchanged nonces')
    return new BoundedBoxConnection({
      localNonce,
      remoteNonce: remote.subarray(),
      psk: this.psk,
      maConn: bytes.unwrap() as MultiaddrConnection,
      log
    })
  }
}

export function boundedPreSharedKey (init: BoundedPSKInit): () => ConnectionProtector {
  return () => new BoundedPreSharedKeyConnectionProtector(init)
}
