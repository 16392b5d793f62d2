import { X509Certificate } from 'node:crypto'
import * as asn1js from 'asn1js'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { OllamadError } from '../../errors.js'

/** The X.509 extension that carries the libp2p key and its signature over the certificate key (libp2p's TLS spec). */
export const LIBP2P_KEY_EXTENSION = '1.3.6.1.4.1.53594.1.1'
const SIGNED_PREFIX = new TextEncoder().encode('libp2p-tls-handshake:')

const bad = (why: string): OllamadError => new OllamadError('PEER_PROTOCOL', `certificate: ${why}`)
const isContext = (b: asn1js.AsnType, tag: number): boolean => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === tag
const sequence = (b: asn1js.AsnType | undefined, why: string): asn1js.AsnType[] => {
  if (!(b instanceof asn1js.Sequence) && !(b instanceof asn1js.Constructed)) throw bad(why)
  return b.valueBlock.value
}
const parse = (bytes: Uint8Array, why: string): asn1js.AsnType => {
  const { offset, result } = asn1js.fromBER(bytes)
  if (offset !== bytes.byteLength) throw bad(why)
  return result
}

/**
 * The peer id a libp2p TLS certificate proves: the checks of `@libp2p/tls`'s verifyPeerCertificate
 * (valid now, self-issued and self-signed, the libp2p extension first, the peer key's signature
 * over the certificate's key), with OpenSSL doing the X.509 work. The library parses X.509 in
 * JavaScript: ~3 ms a certificate warm and far more cold, and a fresh 16-host cluster checks each
 * member's certificate in every other member during its first pull (8% of all CPU in bench:swarm).
 * Throws when it cannot prove one.
 */
export async function provePeerCertificate (raw: Uint8Array, now = Date.now()): Promise<string> {
  const cert = new X509Certificate(raw)
  const [tbs] = sequence(parse(raw, 'trailing or malformed bytes'), 'not a certificate')
  const fields = sequence(tbs, 'no certificate body')
  const at = fields[0] !== undefined && isContext(fields[0], 0) ? 1 : 0
  const [notBefore, notAfter] = sequence(fields[at + 3], 'no validity')
  if (!(notBefore instanceof asn1js.UTCTime || notBefore instanceof asn1js.GeneralizedTime) ||
      !(notAfter instanceof asn1js.UTCTime || notAfter instanceof asn1js.GeneralizedTime)) throw bad('bad validity')
  if (notBefore.toDate().getTime() > now) throw bad('not valid yet')
  if (notAfter.toDate().getTime() < now) throw bad('expired')
  if (cert.checkIssued(cert) !== true || !cert.verify(cert.publicKey)) throw bad('not self-signed')
  const spki = fields[at + 5]
  const extensions = fields.find(f => isContext(f, 3))
  const first = sequence(sequence(extensions, 'no extensions')[0], 'no extension')[0]
  if (first === undefined) throw bad('no extension')
  const ext = sequence(first, 'bad extension')
  const oid = ext[0]
  const value = ext[ext.length - 1]
  if (!(oid instanceof asn1js.ObjectIdentifier) || oid.valueBlock.toString() !== LIBP2P_KEY_EXTENSION || !(value instanceof asn1js.OctetString)) {
    throw bad('the libp2p key extension is not the first')
  }
  const [keyBytes, signature] = sequence(parse(value.valueBlock.valueHexView, 'bad libp2p extension'), 'bad libp2p extension')
  if (!(keyBytes instanceof asn1js.OctetString) || !(signature instanceof asn1js.OctetString) || spki === undefined) throw bad('bad libp2p extension')
  const key = publicKeyFromProtobuf(keyBytes.valueBlock.valueHexView)
  const spkiBytes = spki.valueBeforeDecodeView
  const signed = new Uint8Array(SIGNED_PREFIX.byteLength + spkiBytes.byteLength)
  signed.set(SIGNED_PREFIX)
  signed.set(spkiBytes, SIGNED_PREFIX.byteLength)
  if (!(await key.verify(signed, signature.valueBlock.valueHexView))) throw bad('the libp2p key did not sign the certificate key')
  return peerIdFromPublicKey(key).toString()
}
