import { join } from 'node:path'
import { TOKEN_FILE_NAME, defaultDataDir, isLoopbackHost, readToken } from '../api/index.js'
import { DEFAULT_API_HOST, DEFAULT_API_PORT, parseHostPort } from './config.js'

/** Where client commands find the daemon: --host, then OLLAMAD_HOST, then the default. */
export function daemonUrl (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag ?? env.OLLAMAD_HOST ?? `${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`
  const scheme = /^https:\/\//.test(raw) ? 'https' : 'http'
  const { host, port } = parseHostPort(raw)
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/**
 * The token the CLI sends: --token, else $OLLAMAD_TOKEN, else, for a daemon on this machine's
 * loopback, the one in its data dir ($OLLAMAD_DATA or ~/.ollamad). A local token never goes to
 * another host.
 */
export async function cliToken (flag: string | undefined, url: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (flag !== undefined && flag !== '') return flag
  if (env.OLLAMAD_TOKEN !== undefined && env.OLLAMAD_TOKEN !== '') return env.OLLAMAD_TOKEN
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (!isLoopbackHost(host)) return undefined
  return await readToken(join(defaultDataDir(env), TOKEN_FILE_NAME)).catch(() => undefined)
}
