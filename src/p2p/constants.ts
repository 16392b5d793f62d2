/** The default listen port of the swarm, beside the API's 11435. */
export const DEFAULT_P2P_PORT = 11436
export const DEFAULT_LISTEN = `/ip4/0.0.0.0/tcp/${DEFAULT_P2P_PORT}`
/** Gossip messages larger than this are refused by gossipsub itself. */
export const MAX_GOSSIP_MESSAGE = 1024 * 1024
/** How often the keeper redials peers it knows but is not connected to. */
export const REDIAL_INTERVAL_MS = 5_000
/** The data plane's default port, beside the swarm's. */
export const DEFAULT_DATA_PORT = 11437
