/** Every response of ollamad names the instance that answered. */
export const INSTANCE_HEADER = 'x-ollamad-instance'
/** Requests forwarded to the upstream carry the forwarding instance, to catch loops. */
export const FORWARDED_HEADER = 'x-ollamad-forwarded'
/** The Ollama API version whose routes and texts ollamad follows (ollama/ollama v0.32.15). */
export const OLLAMA_API_VERSION = '0.32.15'

/** The inference routes: what is routed to a node that serves the model, and all the swarm's inference protocol carries (POST only). */
export const INFERENCE_ROUTES: readonly string[] = ['/api/generate', '/api/chat', '/api/embed', '/api/embeddings', '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/messages']
