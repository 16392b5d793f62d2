export { createPuller, type Puller, type PullerInit, type PullerComponents, type PullOptions } from './puller.js'
export { layerStatus, type PullProgress, type ProgressListener } from './progress.js'
export { createPusher, type Pusher, type PushOptions } from './pusher.js'
export { BLOB_PROTOCOL, createBlobProtocolHandler, type BlobProtocolHandler, type BlobServerComponents, type BlobServerInit } from './blob-protocol.js'
export {
  createBlobClient, type BlobClient, type BlobClientComponents, type BlobClientInit, type PeerHave,
  type RequestOptions, type ChunkOptions, type ChunkMapOptions
} from './blob-client.js'
export { pick, seedOf, REGISTRY, type PickerInput, type PickerPeer, type Assignment, type InflightRequest } from './picker.js'
export { fetchFromSwarm, type SwarmDownloadOptions, type SwarmSources, type SwarmResult, type ChunkSource, type PeerView } from './swarm-download.js'
export type { LocalBlobs } from './local-blobs.js'
export { noSwarm, type SwarmAccess } from './swarm-access.js'
export { createLocalBlobs } from './local-blobs-store.js'
export { verifyModels, type VerifyResult } from './verifier.js'
