import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

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

/** The peer id that signed `bytes`; throws when the signature does not hold. */
export async function signerOf (domain: Uint8Array, s: { bytes: Uint8Array, signature: Uint8Array, publicKey: Uint8Array }): Promise<string> {
  const pk = publicKeyFromProtobuf(s.publicKey)
  if (!(await pk.verify(prefixed(domain, s.bytes), s.signature))) throw new Error('bad signature')
  return peerIdFromPublicKey(pk).toString()
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
