export { createOllamaUpstream, type OllamaUpstream, type UpstreamInit, type UpstreamProbe } from './upstream.js'
export * from './constants.js'
