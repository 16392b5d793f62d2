export { createOllamaUpstream, type OllamaUpstream, type UpstreamInit, type UpstreamProbe } from './upstream.js'
export * from './constants.js'
export { createGpuReader, parseNvidiaSmi, readLoaded, type GpuReader, type GpuFact, type LoadedFact } from './node-facts.js'
