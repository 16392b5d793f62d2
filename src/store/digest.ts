import { OllamadError } from '../errors.js'

/** A validated digest in Ollama's canonical form `sha256:<64 hex>`. */
export type Digest = string & { readonly __digest: unique symbol }

const DIGEST_RE = /^sha256[:-]([0-9a-f]{64})$/

export function isDigest (s: unknown): boolean {
  return typeof s === 'string' && DIGEST_RE.test(s)
}

/** Validates `sha256:<hex>` or `sha256-<hex>` and returns the `sha256:<hex>` form. */
export function parseDigest (s: unknown): Digest {
  const m = typeof s === 'string' ? DIGEST_RE.exec(s) : null
  if (m === null) throw new OllamadError('INVALID_DIGEST', `invalid digest format: ${String(s).slice(0, 100)}`)
  return `sha256:${m[1] as string}` as Digest
}

export const digestHex = (d: Digest): string => d.slice(7)

/** The file name of a blob: Ollama keeps `sha256-<hex>` because ':' is not portable. */
export const digestFileName = (d: Digest): string => `sha256-${digestHex(d)}`

export const digestFromHex = (hex: string): Digest => parseDigest(`sha256:${hex}`)
