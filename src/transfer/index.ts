export { createPuller, type Puller, type PullerInit, type PullerComponents, type PullOptions } from './puller.js'
export { layerStatus, type PullProgress, type ProgressListener } from './progress.js'
export { createPusher, type Pusher, type PushOptions } from './pusher.js'
export { BLOB_PROTOCOL, MAX_REQUEST_BYTES } from './protocol/wire.js'
export { createBlobProtocolHandler, type BlobProtocolHandler, type BlobServerComponents, type BlobServerInit } from './protocol/server.js'
export {
  createBlobClient, type BlobClient, type BlobClientComponents, type BlobClientInit, type PeerHave,
  type RequestOptions, type ChunkOptions, type ChunkMapOptions
} from './protocol/client.js'
export { pick, seedOf, REGISTRY, type PickerInput, type PickerPeer, type Assignment, type InflightRequest } from './download/picker.js'
export type { PeerView } from './download/peer-state.js'
export { createBans, type Bans } from './download/bans.js'
export type { LocalBlobs } from './serving/local-blobs.js'
export { createSwarmAccess, noSwarm, type SwarmAccess, type SwarmAccessComponents, type SwarmAccessInit } from './holdings/swarm-access.js'
export { addHoldingsSection, type HoldingsSectionComponents } from './holdings/section.js'
export { heldChunks } from './holdings/record.js'
export { createLocalBlobs, type LocalBlobsComponents } from './serving/local-blobs.js'
export { verifyModels, type VerifyResult } from './verifier.js'
