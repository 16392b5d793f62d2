export { createStore, type Store, type StoreInit, type StoreComponents, type PublishResult } from './store.js'
export type { ModelEntry } from './catalog.js'
export type { PartialBlob } from './partial.js'
export { chunkSize, chunkCount, chunkRange, MIN_CHUNK, MAX_CHUNK } from './chunks.js'
export {
  computeChunkMap, chunkMapOfFile, chunkMapOfPartial, decodeChunkMap, encodeChunkMap, chunkMapCid, chunkHash, chunkHashAsync, chunkFitsChain, chunkFitsChainAsync, createChainHasher, hashThrough,
  blobCid, digestFromCid, digestBytes, digestFromBytes, MAX_CHUNK_MAP_BYTES,
  type ChunkMap, type ComputedChunkMap, type ReadAt
} from './chunk-map.js'
export { createChunkMapStore, type ChunkMapStore } from './chunk-map-store.js'
export * from './digest.js'
export * from './names.js'
export * from './manifest.js'
export { MAX_SMALL_BLOB_BYTES } from './constants.js'
export { MEDIA, readModelConfig, modelDetails, type ModelConfig, type ModelDetails } from './details.js'
export type { StateDb } from './db.js'
export { readGguf, isGgufMagic, GgufType, type GgufInfo, type GgufValue, type GgufTensorInfo } from './gguf.js'
export { fileTypeName, humanNumber } from './gguf-names.js'
