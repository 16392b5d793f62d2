// Sizes and times as Ollama's CLI prints them.
const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

export function size (n) {
  if (!Number.isFinite(n) || n <= 0) return '0 B'
  let i = 0
  while (n >= 1000 && i < UNITS.length - 1) { n /= 1000; i++ }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`
}

export const rate = (n) => n > 0 ? `${size(n)}/s` : '–'

export function ago (ms, now = Date.now()) {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} seconds ago`
  const m = Math.round(s / 60)
  if (m < 60) return m === 1 ? 'About a minute ago' : `${m} minutes ago`
  const h = Math.round(m / 60)
  if (h < 24) return h === 1 ? 'About an hour ago' : `${h} hours ago`
  const d = Math.round(h / 24)
  return d === 1 ? '1 day ago' : `${d} days ago`
}

export const percent = (part, whole) => whole > 0 ? Math.min(100, Math.floor(100 * part / whole)) : 0
