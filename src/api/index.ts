export { createApiServer, type ApiServer } from './server.js'
export type { ApiComponents } from './context.js'
