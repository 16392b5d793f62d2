import type { Command } from 'commander'
import { errorMessage } from '../errors.js'

/** The option every client command takes: which daemon to talk to. */
export const hostOption = (c: Command): Command => c
  .option('--host <host:port>', 'the ollamad to talk to (default: $OLLAMAD_HOST or 127.0.0.1:11435)')
  .option('--token <token>', 'the daemon\'s API token for cluster-wide writes (default: $OLLAMAD_TOKEN, or the local daemon\'s own)')

/** A command's failure: printed as one line, with a non-zero exit. */
export class CliError extends Error {}

export interface DaemonClient {
  json: <T>(method: string, path: string, body?: unknown) => Promise<T>
  /** POSTs and calls onLine for each NDJSON line; an in-band error line throws. */
  stream: (path: string, body: unknown, onLine: (line: Record<string, unknown>) => void, signal?: AbortSignal) => Promise<void>
}

/** A client of one daemon; `token` is asked for once, at the first call. */
export function createDaemonClient (base: string, token: () => Promise<string | undefined> = async () => undefined): DaemonClient {
  let bearer: Promise<string | undefined> | undefined
  const call = async (method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> => {
    bearer ??= token()
    const t = await bearer
    let res: Response
    try {
      res = await fetch(base + path, {
        method,
        headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(t !== undefined ? { Authorization: `Bearer ${t}` } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? errorMessage(e)
      throw new CliError(`could not reach ollamad at ${base} (${cause}); is it running? start it with: ollamad start`)
    }
    if (!res.ok) {
      const text = await res.text()
      let msg = text.trim()
      try { msg = (JSON.parse(text) as { error?: string }).error ?? msg } catch {}
      throw new CliError(msg !== '' ? msg : `ollamad answered ${res.status} ${res.statusText}`)
    }
    return res
  }
  return {
    json: async <T>(method: string, path: string, body?: unknown) => {
      const res = await call(method, path, body)
      const text = await res.text()
      return (text === '' ? {} : JSON.parse(text)) as T
    },
    stream: async (path, body, onLine, signal) => {
      const res = await call('POST', path, body, signal)
      if (res.body === null) return
      const decoder = new TextDecoder()
      let buf = ''
      const handle = (raw: string): void => {
        if (raw.trim() === '') return
        const line = JSON.parse(raw) as Record<string, unknown>
        if (typeof line.error === 'string') throw new CliError(line.error)
        onLine(line)
      }
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true })
        let i
        while ((i = buf.indexOf('\n')) >= 0) { handle(buf.slice(0, i)); buf = buf.slice(i + 1) }
      }
      handle(buf)
    }
  }
}
