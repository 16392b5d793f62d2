export { createP2pNode, type P2pNode, type P2pInit } from './node.js'
export { startKeeper, type Keeper, type KnownPeer } from './keeper.js'
export { loadOrCreatePeerKey, loadOrCreateOwnSwarmKey, readSwarmKey, newSwarmKey } from './keys.js'
export * from './constants.js'
