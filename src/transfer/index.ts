export { createPuller, type Puller, type PullerInit, type PullerComponents, type PullOptions } from './puller.js'
export { layerStatus, type PullProgress, type ProgressListener } from './progress.js'
export { createPusher, type Pusher, type PushOptions } from './pusher.js'
export { BLOB_PROTOCOL, createBlobProtocolHandler, type BlobProtocolHandler, type BlobServerComponents, type BlobServerInit } from './protocol/server.js'
export {
  createBlobClient, type BlobClient, type BlobClientComponents, type BlobClientInit, type PeerHave,
  type RequestOptions, type ChunkOptions, type ChunkMapOptions
} from './protocol/client.js'
export { pick, seedOf, REGISTRY, type PickerInput, type PickerPeer, type Assignment, type InflightRequest } from './download/picker.js'
export { fetchFromSwarm, type SwarmDownloadOptions, type SwarmSources, type SwarmResult, type ChunkSource, type PeerView } from './download/swarm-download.js'
export type { LocalBlobs } from './serving/local-blobs.js'
export { noSwarm, type SwarmAccess } from './holdings/swarm-access.js'
export { createLocalBlobs, type LocalBlobsComponents } from './serving/local-blobs.js'
export { verifyModels, type VerifyResult } from './verifier.js'
