export { createPuller, type Puller, type PullerInit, type PullerComponents, type PullOptions } from './puller.js'
export { chunkSize, chunkCount, chunkRange } from './chunks.js'
export { layerStatus, type PullProgress, type ProgressListener } from './progress.js'
export { createPusher, type Pusher, type PushOptions } from './pusher.js'
