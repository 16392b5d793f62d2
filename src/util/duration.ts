const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A duration as Go writes them (and Ollama's keep_alive takes them): `300ms`, `5m`, `1h30m`,
 * `2.5s`. A bare number is milliseconds, as these flags took before. Undefined when malformed.
 */
export function parseDurationMs (text: string): number | undefined {
  const s = text.trim()
  if (/^\d+$/.test(s)) return Number(s)
  const parts = /^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$/.test(s) ? s.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g) : null
  if (parts === null) return undefined
  let total = 0
  for (const p of parts) {
    const [, n, unit] = /^(\d+(?:\.\d+)?)(\D+)$/.exec(p) as RegExpExecArray
    total += Number(n) * (UNITS[unit as string] as number)
  }
  return Math.round(total)
}
