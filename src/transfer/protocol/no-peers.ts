import { OllamadError } from '../../errors.js'
import type { BlobClient } from './client.js'

/** A client with no peers to ask: nobody holds anything, and a chunk cannot be had from anyone. */
export const noPeers: BlobClient = {
  have: async () => undefined,
  chunk: async (peer) => { throw new OllamadError('PEER_UNAVAILABLE', `no swarm: ${peer} cannot be asked`) },
  manifest: async () => undefined,
  chunkMap: async () => undefined
}
