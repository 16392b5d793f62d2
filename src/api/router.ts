import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Access } from './access.js'

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  params: Record<string, string>
  /** Fires when the client goes away, so long work stops with it. */
  signal: AbortSignal
}

export type Handler = (ctx: RequestContext) => Promise<void>

interface Route { method: string, pattern: string, parts: string[], access: Access, handler: Handler }

/**
 * Method + path routing with `:param` segments; 405 when the path exists under another method.
 * Every route says what it does (its access class), so none is added without a rule for who may call it.
 */
export interface Router {
  add: (method: string | string[], path: string, access: Access, handler: Handler) => void
  match: (method: string, path: string) => { handler: Handler, access: Access, pattern: string, params: Record<string, string> } | 'method-not-allowed' | undefined
}

export function createRouter (): Router {
  const routes: Route[] = []
  const matchParts = (r: Route, segs: string[]): Record<string, string> | undefined => {
    if (r.parts.length !== segs.length) return undefined
    const params: Record<string, string> = {}
    for (let i = 0; i < segs.length; i++) {
      const p = r.parts[i] as string
      const s = segs[i] as string
      if (p.startsWith(':')) {
        try { params[p.slice(1)] = decodeURIComponent(s) } catch { return undefined }
      } else if (p !== s) return undefined
    }
    return params
  }
  return {
    add: (method, path, access, handler) => {
      for (const m of Array.isArray(method) ? method : [method]) routes.push({ method: m, pattern: path, parts: path.split('/').filter(Boolean), access, handler })
    },
    match: (method, path) => {
      const segs = path.split('/').filter(Boolean)
      let pathKnown = false
      for (const r of routes) {
        const params = matchParts(r, segs)
        if (params === undefined) continue
        if (r.method === method) return { handler: r.handler, access: r.access, pattern: r.pattern, params }
        pathKnown = true
      }
      return pathKnown ? 'method-not-allowed' : undefined
    }
  }
}
