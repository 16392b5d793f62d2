import tls from 'node:tls'
import type { DataIdentity } from './identity.js'

/** ALPN of the data plane, so a data port never mistakes another TLS client for a peer: bodies for tickets. */
export const DATA_ALPN = 'ollamad-data/1'
/** A data connection that carries the blob requests themselves, each answered on it (no libp2p stream). */
export const DATA_ALPN_REQUESTS = 'ollamad-data/2'
/** A data connection that carries inference requests, each answered as a stream of frames. */
export const DATA_ALPN_INFER = 'ollamad-infer/1'
/** What a data port takes, newest first. */
export const DATA_ALPNS = [DATA_ALPN_REQUESTS, DATA_ALPN_INFER, DATA_ALPN]

/**
 * TLS 1.3 only, AES-GCM first (AES-NI makes it the cheapest per byte). Certificates are checked by
 * us, not by a CA: each end's certificate must prove a libp2p peer id (see identity.ts).
 */
export function tlsOptions (identity: DataIdentity, alpn: string[] = [DATA_ALPN]): { cert: string, key: string, minVersion: 'TLSv1.3', ciphers: string, ALPNProtocols: string[], rejectUnauthorized: false } {
  return {
    cert: identity.cert,
    key: identity.key,
    minVersion: 'TLSv1.3',
    ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    ALPNProtocols: alpn,
    rejectUnauthorized: false
  }
}

/**
 * The dialling side's TLS context for an identity, made once: a context per connection parses
 * the certificate and key again, 1.7 ms on this machine, on every data connection opened.
 */
const contexts = new WeakMap<DataIdentity, tls.SecureContext>()
export function clientContext (identity: DataIdentity): tls.SecureContext {
  let ctx = contexts.get(identity)
  if (ctx === undefined) {
    const { cert, key, minVersion, ciphers } = tlsOptions(identity)
    ctx = tls.createSecureContext({ cert, key, minVersion, ciphers })
    contexts.set(identity, ctx)
  }
  return ctx
}

/** An address as libp2p and Node print it, without the IPv4-in-IPv6 prefix a dual-stack socket adds. */
export function plainIp (ip: string | undefined): string {
  return (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
}
