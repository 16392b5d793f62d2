import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { OllamadError } from '../errors.js'
import { writePrivateFile } from '../util/private-file.js'

export const TOKEN_FILE_NAME = 'api-token'

/** The state directory: --data, else $OLLAMAD_DATA, else ~/.ollamad (the daemon and the CLI agree on it). */
export const defaultDataDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.OLLAMAD_DATA !== undefined && env.OLLAMAD_DATA !== '' ? env.OLLAMAD_DATA : join(homedir(), '.ollamad')

const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{16,512}$/

/** Reads a token file; undefined when there is none. */
export async function readToken (path: string): Promise<string | undefined> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new OllamadError('INVALID_REQUEST', `cannot read the token file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }
  const token = text.trim()
  if (!TOKEN_RE.test(token)) throw new OllamadError('INVALID_REQUEST', `${path} does not hold a token (16 to 512 characters of A-Z a-z 0-9 . _ ~ + / = -)`)
  return token
}

/** The daemon's token: the file's, or a new one written there readable by its owner only. */
export async function loadOrCreateToken (path: string): Promise<string> {
  const have = await readToken(path)
  if (have !== undefined) return have
  const token = randomBytes(32).toString('base64url')
  await writePrivateFile(path, token + '\n')
  return token
}
