export { createRegistryClient, type RegistryClient, type RegistryInit, type RegistryComponents, type CallOptions, type FetchedManifest } from './client.js'
export { parseChallenge, type BearerChallenge } from './auth.js'
export { readBody, stallGuarded } from './http.js'
export * from './constants.js'
