import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { NodeRecord, SignedRecord, ClusterMessage } from '../../proto/cluster.js'
import { OllamadError } from '../errors.js'
import { MAX_RECORD_BYTES, MAX_RECORDS_PER_MESSAGE } from './constants.js'

export { NodeRecord, SignedRecord, ClusterMessage }

/** Signatures cover this prefix too, so a record signature cannot be replayed as another message. */
const DOMAIN = new TextEncoder().encode('ollamad/node-record/1:')

const withDomain = (bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(DOMAIN.byteLength + bytes.byteLength)
  out.set(DOMAIN)
  out.set(bytes, DOMAIN.byteLength)
  return out
}

export async function signRecord (key: PrivateKey, record: NodeRecord): Promise<SignedRecord> {
  const bytes = NodeRecord.encode(record)
  if (bytes.byteLength > MAX_RECORD_BYTES) throw new OllamadError('SIZE_LIMIT', `node record of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`)
  const signature = await key.sign(withDomain(bytes))
  return { record: bytes as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer>, publicKey: publicKeyToProtobuf(key.publicKey) as Uint8Array<ArrayBuffer> }
}

const invalid = (msg: string): OllamadError => new OllamadError('INVALID_REQUEST', `invalid node record: ${msg}`)

/** Decodes a signed record and checks it was written by the owner of its peer id. */
export async function verifyRecord (signed: SignedRecord): Promise<NodeRecord> {
  if (signed.record.byteLength > MAX_RECORD_BYTES) throw invalid('too large')
  let record: NodeRecord
  let owner: string
  try {
    record = NodeRecord.decode(signed.record)
    const pk = publicKeyFromProtobuf(signed.publicKey)
    owner = peerIdFromPublicKey(pk).toString()
    if (!(await pk.verify(withDomain(signed.record), signed.signature))) throw invalid('bad signature')
  } catch (e) {
    throw e instanceof OllamadError ? e : invalid((e as Error).message)
  }
  if (owner !== record.peerId) throw invalid(`signed by ${owner}, not by its owner ${record.peerId.slice(0, 60)}`)
  return record
}

/** Decodes a gossip payload; any record that fails makes the whole message invalid. */
export async function decodeClusterMessage (data: Uint8Array): Promise<Array<{ signed: SignedRecord, record: NodeRecord }>> {
  const msg = ClusterMessage.decode(data, { limits: { records: MAX_RECORDS_PER_MESSAGE } })
  const out = []
  for (const signed of msg.records) out.push({ signed, record: await verifyRecord(signed) })
  return out
}
