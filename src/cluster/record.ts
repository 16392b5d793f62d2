import type { PrivateKey } from '@libp2p/interface'
import { NodeRecord, SignedRecord, ClusterMessage, type SignedIntent, type Intent, type JobProgress } from '../../proto/cluster.js'
import { OllamadError } from '../errors.js'
import { MAX_RECORD_BYTES, MAX_RECORDS_PER_MESSAGE, MAX_INTENTS_PER_MESSAGE } from './constants.js'
import { openSigned, signBytes } from './signing.js'
import { verifyIntent } from './intent-codec.js'

export { NodeRecord, SignedRecord, ClusterMessage }
export type { JobProgress }

/** Signatures cover this prefix too, so a record signature cannot be replayed as another message. */
const DOMAIN = new TextEncoder().encode('ollamad/node-record/1:')

export async function signRecord (key: PrivateKey, record: NodeRecord): Promise<SignedRecord> {
  const bytes = NodeRecord.encode(record)
  if (bytes.byteLength > MAX_RECORD_BYTES) throw new OllamadError('SIZE_LIMIT', `node record of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`)
  const s = await signBytes(key, DOMAIN, bytes)
  return { record: s.bytes, signature: s.signature, publicKey: s.publicKey }
}

const invalid = (msg: string): OllamadError => new OllamadError('INVALID_REQUEST', `invalid node record: ${msg}`)

/** Decodes a signed record and checks it was written by the owner of its peer id. */
export async function verifyRecord (signed: SignedRecord): Promise<NodeRecord> {
  return await openSigned(DOMAIN, { bytes: signed.record, signature: signed.signature, publicKey: signed.publicKey }, {
    maxBytes: MAX_RECORD_BYTES, decode: (b) => NodeRecord.decode(b), author: (r) => r.peerId, fail: invalid
  })
}

export interface DecodedMessage {
  records: Array<{ signed: SignedRecord, record: NodeRecord }>
  intents: Array<{ signed: SignedIntent, intent: Intent }>
}

/** Decodes a gossip payload; any record or intent that fails makes the whole message invalid. */
export async function decodeClusterMessage (data: Uint8Array): Promise<DecodedMessage> {
  const msg = ClusterMessage.decode(data, { limits: { records: MAX_RECORDS_PER_MESSAGE, intents: MAX_INTENTS_PER_MESSAGE } })
  const out: DecodedMessage = { records: [], intents: [] }
  for (const signed of msg.records) out.records.push({ signed, record: await verifyRecord(signed) })
  for (const signed of msg.intents) out.intents.push({ signed, intent: await verifyIntent(signed) })
  return out
}
