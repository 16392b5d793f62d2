import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

/** Bytes signed under a domain prefix, so a signature made for one kind of message is never valid as another. */
export interface Signed { bytes: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>, publicKey: Uint8Array<ArrayBuffer> }

const prefixed = (domain: Uint8Array, bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(domain.byteLength + bytes.byteLength)
  out.set(domain)
  out.set(bytes, domain.byteLength)
  return out
}

export async function signBytes (key: PrivateKey, domain: Uint8Array, bytes: Uint8Array): Promise<Signed> {
  const signature = await key.sign(prefixed(domain, bytes))
  return { bytes: bytes as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer>, publicKey: publicKeyToProtobuf(key.publicKey) as Uint8Array<ArrayBuffer> }
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const MAX_SIGNERS = 4096

interface Signer { peerId: string, key: PublicKey, node?: KeyObject }
/**
 * Signers already seen, by their key's bytes. Every node re-verifies every record it receives, a
 * few a second per member: building the key and its peer id each time cost more than the check.
 */
const signers = new Map<string, Signer>()

function signerFor (publicKey: Uint8Array): Signer {
  const id = Buffer.from(publicKey).toString('base64')
  let s = signers.get(id)
  if (s === undefined) {
    const key = publicKeyFromProtobuf(publicKey)
    const node = key.type === 'Ed25519' ? createPublicKey({ key: Buffer.concat([ED25519_SPKI, key.raw]), format: 'der', type: 'spki' }) : undefined
    s = { peerId: peerIdFromPublicKey(key).toString(), key, node }
    if (signers.size >= MAX_SIGNERS) signers.clear()
    signers.set(id, s)
  }
  return s
}

/** The peer id that signed `bytes`; throws when the signature does not hold. */
export async function signerOf (domain: Uint8Array, s: { bytes: Uint8Array, signature: Uint8Array, publicKey: Uint8Array }): Promise<string> {
  const signer = signerFor(s.publicKey)
  const data = prefixed(domain, s.bytes)
  const ok = signer.node !== undefined ? verify(null, data, signer.node, s.signature) : await signer.key.verify(data, s.signature)
  if (!ok) throw new Error('bad signature')
  return signer.peerId
}

/**
 * Opens signed bytes: size bound, decode, signature, and the decoded message's own claim of who
 * wrote it (`author`) must be the signer. Any failure is one `fail(reason)` error.
 */
export async function openSigned<T> (domain: Uint8Array, s: { bytes: Uint8Array, signature: Uint8Array, publicKey: Uint8Array }, o: {
  maxBytes: number
  decode: (b: Uint8Array) => T
  author: (t: T) => string
  fail: (reason: string) => Error
}): Promise<T> {
  if (s.bytes.byteLength > o.maxBytes) throw o.fail('too large')
  let value: T
  let signer: string
  try {
    value = o.decode(s.bytes)
    signer = await signerOf(domain, s)
  } catch (e) {
    throw o.fail((e as Error).message)
  }
  if (signer !== o.author(value)) throw o.fail(`signed by ${signer}, not by its author ${o.author(value).slice(0, 60)}`)
  return value
}
