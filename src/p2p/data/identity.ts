import { createHash } from 'node:crypto'
import { generateCertificate, verifyPeerCertificate } from '@libp2p/tls/utils'
import type { PrivateKey } from '@libp2p/interface'
import { OllamadError, errorMessage } from '../../errors.js'
import { provePeerCertificate } from './cert-proof.js'

/** A TLS key and self-signed certificate that carries the node's libp2p key, as libp2p's TLS spec binds them. */
export interface DataIdentity { cert: string, key: string }

/** Made at each start: the certificate key lives only in memory, the binding comes from the peer key. */
export async function createDataIdentity (privateKey: PrivateKey): Promise<DataIdentity> {
  return await generateCertificate(privateKey)
}

/**
 * Certificates already checked (or being checked), by their sha256: a node's certificate lives as
 * long as the node, and a swarm opens many data connections, several to one peer at once.
 */
const proven = new Map<string, Promise<string>>()
const MAX_PROVEN = 4096

/** Proven natively; anything that path cannot prove goes to the library, whose verdict stands. */
const prove = async (raw: Uint8Array): Promise<string> => {
  try {
    return await provePeerCertificate(raw)
  } catch {
    return (await verifyPeerCertificate(raw)).toString()
  }
}

/**
 * The peer id a certificate proves (its libp2p extension, signed by the peer key over the TLS key),
 * checked against `expected` when given.
 */
export async function certificatePeer (raw: Uint8Array | undefined, expected?: string): Promise<string> {
  if (raw === undefined || raw.byteLength === 0) throw new OllamadError('PEER_PROTOCOL', 'the data connection presented no certificate')
  const fingerprint = createHash('sha256').update(raw).digest('hex')
  let proof = proven.get(fingerprint)
  if (proof === undefined) {
    if (proven.size >= MAX_PROVEN) proven.clear()
    proof = prove(new Uint8Array(raw))
    proven.set(fingerprint, proof)
    // A certificate that proves nothing is not remembered: the next connection gets a fresh check.
    proof.catch(() => { if (proven.get(fingerprint) === proof) proven.delete(fingerprint) })
  }
  let id: string
  try {
    id = await proof
  } catch (e) {
    throw new OllamadError('PEER_PROTOCOL', `the data connection's certificate does not prove ${expected ?? 'a peer'}: ${errorMessage(e)}`)
  }
  if (expected !== undefined && id !== expected) throw new OllamadError('PEER_PROTOCOL', `the data connection's certificate proves ${id}, not ${expected}`)
  return id
}
