import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Asset { body: Buffer, type: string }

/** The dashboard's files, by URL path: a fixed list, so no part of a request path ever names a file. */
const OWN = { '/ui': 'index.html', '/ui/app.js': 'app.js', '/ui/matrix.js': 'matrix.js', '/ui/actions.js': 'actions.js', '/ui/format.js': 'format.js', '/ui/style.css': 'style.css' }
/** Preact and htm, from the package's own dependencies: no CDN, and the page works offline. */
const VENDOR = { '/ui/vendor/preact.js': ['preact', 'dist/preact.module.js'], '/ui/vendor/hooks.js': ['preact', 'hooks/dist/hooks.module.js'], '/ui/vendor/htm.js': ['htm', 'dist/htm.module.js'] } as const

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' }
const typeOf = (file: string): string => TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream'

/** The ui/ folder at the package root (dist/src/api/dashboard/ -> four levels up). */
const UI_DIR = fileURLToPath(new URL('../../../../ui/', import.meta.url))

/** A dependency's folder, found from its main file (htm does not export its package.json). */
function packageDir (name: string): string {
  const main = createRequire(import.meta.url).resolve(name)
  const marker = `${sep}node_modules${sep}${name}${sep}`
  const i = main.lastIndexOf(marker)
  return i < 0 ? dirname(dirname(main)) : main.slice(0, i + marker.length - 1)
}

export interface DashboardAssets {
  get: (path: string) => Promise<Asset | undefined>
  /** The Content-Security-Policy for the page: its own scripts, and the import map by its hash. */
  csp: () => Promise<string>
  paths: string[]
}

export function createDashboardAssets (): DashboardAssets {
  const cache = new Map<string, Promise<Asset>>()
  const load = (path: string): Promise<Asset> | undefined => {
    const own = (OWN as Record<string, string>)[path]
    const vendor = (VENDOR as Record<string, readonly [string, string]>)[path]
    const file = own !== undefined ? join(UI_DIR, own) : vendor !== undefined ? join(packageDir(vendor[0]), vendor[1]) : undefined
    if (file === undefined) return undefined
    let p = cache.get(path)
    if (p === undefined) {
      p = readFile(file).then(body => ({ body, type: typeOf(file) }))
      p.catch(() => { cache.delete(path) })
      cache.set(path, p)
    }
    return p
  }
  return {
    paths: [...Object.keys(OWN), ...Object.keys(VENDOR)],
    get: async (path) => await load(path === '/ui/' ? '/ui' : path),
    csp: async () => {
      const html = (await (load('/ui') as Promise<Asset>)).body.toString('utf8')
      const inline = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(m => `'sha256-${createHash('sha256').update(m[1] as string).digest('base64')}'`)
      return `default-src 'self'; script-src 'self' ${inline.join(' ')}; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`
    }
  }
}
