export { createRegistryClient, type RegistryClient, type RegistryInit, type RegistryComponents, type CallOptions, type FetchedManifest } from './client.js'
export { parseChallenge, type BearerChallenge } from './auth.js'
export { readBody } from './http.js'
export * from './constants.js'
