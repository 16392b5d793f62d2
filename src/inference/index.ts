export { createOllamaUpstream, type OllamaUpstream, type UpstreamInit } from './upstream.js'
export * from './constants.js'
