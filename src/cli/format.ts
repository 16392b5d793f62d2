// Sizes and durations the way `ollama` prints them.

/** Decimal units as Ollama prints them: whole numbers from 10 up ("34 MB"), one decimal below ("4.7 GB", "2 GB"). */
export function humanBytes (n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = Math.max(0, Math.floor(n))
  let u = 0
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++ }
  if (u === 0) return `${v} B`
  const shown = v >= 10 || Number.isInteger(v) ? String(Math.trunc(v)) : (Math.trunc(v * 10) / 10).toFixed(1)
  return `${shown} ${units[u] as string}`
}

/** A time left as Ollama's bars show it: "35s", "4m5s", "2h13m", and "99h+" past that. */
export function humanDuration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.round(seconds)
  if (s >= 100 * 3600) return '99h+'
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor(s / 60) % 60}m`
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`
  return `${s}s`
}

/** A span as Ollama's CLI says it: "Less than a second", "About a minute", "4 hours", "2 weeks". */
export function humanSpan (seconds: number): string {
  const s = Math.floor(seconds)
  if (s < 1) return 'Less than a second'
  if (s === 1) return '1 second'
  if (s < 60) return `${s} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.round(seconds / 3600)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`
}

/** A time as `ollama list` and `ollama ps` show it: "4 minutes ago", "About an hour from now", "Forever". */
export function humanTime (iso: string, now = Date.now()): string {
  const t = Date.parse(iso)
  if (!Number.isFinite(t) || t <= 0) return 'Never'
  const delta = (now - t) / 1000
  // Ollama's "never expires" is a date centuries ahead.
  if (delta < -20 * 365 * 86400) return 'Forever'
  return delta < 0 ? `${humanSpan(-delta)} from now` : `${humanSpan(delta)} ago`
}

/** Left-aligned columns separated by three spaces, as `ollama list` prints them. */
export function table (rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length))) ?? []
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd((widths[i] as number) + 3)).join('').trimEnd()).join('\n')
}
