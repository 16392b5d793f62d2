import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writePrivateFile } from '../util/private-file.js'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import type { PrivateKey } from '@libp2p/interface'
import { OllamadError } from '../errors.js'

/** The node's libp2p identity, made once and kept in the data dir so the peer id survives restarts. */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, 'peer.key')
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e })
  if (bytes !== undefined) {
    try { return privateKeyFromProtobuf(bytes) } catch (e) {
      throw new OllamadError('INVALID_REQUEST', `the peer key ${path} is corrupt; remove it to make a new identity`, { cause: e })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writePrivateFile(path, privateKeyToProtobuf(key))
  return key
}

/** A new pre-shared swarm key in the format @libp2p/pnet reads (and go-ipfs writes). */
export function newSwarmKey (): Uint8Array {
  const out = new Uint8Array(95)
  generateKey(out)
  return out
}

const SWARM_KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Reads a swarm key file, refusing anything that is not a v1 base16 PSK. */
export async function readSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Buffer
  try { bytes = await readFile(path) } catch (e) {
    throw new OllamadError('INVALID_REQUEST', `cannot read the swarm key ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  if (bytes.byteLength > 256 || !SWARM_KEY_RE.test(bytes.toString('utf8'))) {
    throw new OllamadError('INVALID_REQUEST', `${path} is not a swarm key (make one with: ollamad swarm-key FILE)`)
  }
  return new Uint8Array(bytes)
}

/**
 * The swarm is closed by default: without --swarm-key a node makes its own key once, and so is a
 * cluster of one until it is given the cluster's key.
 */
export async function loadOrCreateOwnSwarmKey (dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, 'swarm.key')
  try { return await readSwarmKey(path) } catch {}
  const key = newSwarmKey()
  await writePrivateFile(path, key)
  return key
}
