/**
 * JSON as Go's encoding/json writes it (compact, with <, >, & and U+2028/9 escaped). Ollama
 * hashes the bytes it writes, so blobs and manifests we create must match it byte for byte.
 */
export function goJson (v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/** Go's json.Encoder adds a newline after each value. */
export const goJsonLine = (v: unknown): string => goJson(v) + '\n'
