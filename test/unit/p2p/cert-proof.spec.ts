import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { X509Certificate, type webcrypto } from 'node:crypto'
import fc from 'fast-check'
import * as asn1js from 'asn1js'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
// First: it loads the reflect-metadata polyfill that @peculiar/x509 needs.
import { generateCertificate, verifyPeerCertificate } from '@libp2p/tls/utils'
import * as x509 from '@peculiar/x509'
import type { PrivateKey } from '@libp2p/interface'
import { LIBP2P_KEY_EXTENSION, provePeerCertificate } from '../../../src/p2p/data/cert-proof.js'
import { certificatePeer } from '../../../src/p2p/data/index.js'
import { codeOf } from '../../fixtures/data-plane.js'

const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw)
const signedPrefix = new TextEncoder().encode('libp2p-tls-handshake:')

/**
 * A self-signed certificate (its own signature valid) whose libp2p extension names `owner`'s key
 * but is signed by `signer`, with `extra` extensions before it.
 */
async function crafted (owner: PrivateKey, signer: PrivateKey, extra: x509.Extension[] = []): Promise<Uint8Array> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  // The WebCrypto that @libp2p/tls gave @peculiar/x509: its keys are the ones the generator takes.
  const subtle = x509.cryptoProvider.get().subtle
  const keys = await subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair
  const spki = new Uint8Array(await subtle.exportKey('spki', keys.publicKey))
  const sig = await signer.sign(new Uint8Array([...signedPrefix, ...spki]))
  const ext = new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: publicKeyToProtobuf(owner.publicKey) }), new asn1js.OctetString({ valueHex: sig })] }).toBER()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 3600_000),
    signingAlgorithm: alg,
    keys,
    extensions: [...extra, new x509.Extension(LIBP2P_KEY_EXTENSION, true, ext)]
  })
  return new Uint8Array(cert.rawData)
}

describe('p2p/data: proving a libp2p certificate without parsing X.509 in JavaScript', () => {
  let key: PrivateKey
  let raw: Uint8Array
  before(async () => {
    key = await generateKeyPair('Ed25519')
    raw = der((await generateCertificate(key)).cert)
  })

  it('proves the peer id the library proves, for Ed25519 and secp256k1 keys', async () => {
    for (const k of [key, await generateKeyPair('secp256k1')]) {
      const cert = der((await generateCertificate(k)).cert)
      const id = await provePeerCertificate(cert)
      assert.equal(id, peerIdFromPrivateKey(k).toString())
      assert.equal(id, (await verifyPeerCertificate(cert)).toString())
      assert.equal(await certificatePeer(cert, id), id)
    }
  })

  it('refuses a certificate whose libp2p key did not sign the certificate key', async () => {
    const other = await generateKeyPair('Ed25519')
    const forged = await crafted(key, other)
    await assert.rejects(provePeerCertificate(forged), /did not sign/)
    assert.equal(await codeOf(certificatePeer(forged)), 'PEER_PROTOCOL')
    // The same construction with the right signer passes: the refusal above is the signature's.
    assert.equal(await provePeerCertificate(await crafted(key, key)), peerIdFromPrivateKey(key).toString())
  })

  it('refuses a certificate whose first extension is not the libp2p key', async () => {
    const cert = await crafted(key, key, [new x509.BasicConstraintsExtension(false)])
    await assert.rejects(provePeerCertificate(cert), /not the first/)
    assert.equal(await codeOf(certificatePeer(cert)), 'PEER_PROTOCOL')
  })

  it('refuses a certificate outside its validity', async () => {
    const cert = new X509Certificate(raw)
    await assert.rejects(provePeerCertificate(raw, Date.parse(cert.validTo) + 1000), /expired/)
    await assert.rejects(provePeerCertificate(raw, Date.parse(cert.validFrom) - 1000), /not valid yet/)
  })

  it('accepts a damaged certificate only where the library does, with the same peer id', async function () {
    this.timeout(60_000)
    const expected = peerIdFromPrivateKey(key).toString()
    await fc.assert(fc.asyncProperty(fc.nat(raw.byteLength - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
      const bent = raw.slice()
      bent[at] = (bent[at] as number) ^ flip
      const ours = await provePeerCertificate(bent).catch(() => undefined)
      if (ours === undefined) return
      assert.equal(ours, expected)
      assert.equal((await verifyPeerCertificate(bent)).toString(), expected)
    }), { numRuns: 150 })
  })

  it('refuses bytes that are no certificate, and trailing bytes after one', async () => {
    await assert.rejects(provePeerCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])))
    await assert.rejects(provePeerCertificate(new Uint8Array([...raw, 0])))
    assert.equal(await codeOf(certificatePeer(new Uint8Array([1, 2, 3]))), 'PEER_PROTOCOL')
  })
})
