import { createHash } from 'node:crypto'
import { generateCertificate, verifyPeerCertificate } from '@libp2p/tls/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { OllamadError, errorMessage } from '../../errors.js'

/** A TLS key and self-signed certificate that carries the node's libp2p key, as libp2p's TLS spec binds them. */
export interface DataIdentity { cert: string, key: string }

/** Made at each start: the certificate key lives only in memory, the binding comes from the peer key. */
export async function createDataIdentity (privateKey: PrivateKey): Promise<DataIdentity> {
  return await generateCertificate(privateKey)
}

/**
 * Certificates already checked, by their sha256: a node's certificate lives as long as the node,
 * and a swarm opens many data connections; the check (X.509 parsing in JavaScript) took ~5 ms.
 */
const proven = new Map<string, string>()
const MAX_PROVEN = 4096

/**
 * The peer id a certificate proves (its libp2p extension, signed by the peer key over the TLS key),
 * checked against `expected` when given.
 */
export async function certificatePeer (raw: Uint8Array | undefined, expected?: string): Promise<string> {
  if (raw === undefined || raw.byteLength === 0) throw new OllamadError('PEER_PROTOCOL', 'the data connection presented no certificate')
  const fingerprint = createHash('sha256').update(raw).digest('hex')
  const known = proven.get(fingerprint)
  if (known !== undefined && (expected === undefined || expected === known)) return known
  try {
    const id = (await verifyPeerCertificate(raw, expected !== undefined ? peerIdFromString(expected) : undefined)).toString()
    if (proven.size >= MAX_PROVEN) proven.clear()
    proven.set(fingerprint, id)
    return id
  } catch (e) {
    throw new OllamadError('PEER_PROTOCOL', `the data connection's certificate does not prove ${expected ?? 'a peer'}: ${errorMessage(e)}`)
  }
}
