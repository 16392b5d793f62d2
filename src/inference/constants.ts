/** Every response of ollamad names the instance that answered. */
export const INSTANCE_HEADER = 'x-ollamad-instance'
/** Requests forwarded to the upstream carry the forwarding instance, to catch loops. */
export const FORWARDED_HEADER = 'x-ollamad-forwarded'
/** The Ollama API version whose routes and texts ollamad follows (ollama/ollama v0.32.15). */
export const OLLAMA_API_VERSION = '0.32.15'
