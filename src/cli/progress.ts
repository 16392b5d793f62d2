import { humanBytes, humanDuration } from './format.js'

interface Bar { status: string, total: number, completed: number, initial: number, started: number, stopped?: number, samples: Array<[number, number]> }

/** Ollama's bar: rates over the last ten one-second samples, and a line 80 columns wide off a terminal. */
const SAMPLES = 10
const DEFAULT_COLUMNS = 80

/**
 * Renders pull/push progress: one bar per layer with speed and ETA on a terminal, redrawn in
 * place; plain status lines when the output is not a terminal.
 */
export interface ProgressView { update: (line: Record<string, unknown>) => void, done: () => void }

const right = (s: string, width = 6): string => s.padStart(width)

function rateOf (b: Bar): number {
  if (b.stopped !== undefined) {
    const secs = Math.round((b.stopped - b.started) / 1000)
    return secs > 0 ? (b.completed - b.initial) / secs : 0
  }
  const first = b.samples[0]
  const last = b.samples[b.samples.length - 1]
  if (first === undefined || last === undefined) return 0
  const [from, fromValue] = first === last ? [b.started, b.initial] : first
  const secs = Math.round((last[0] - from) / 1000)
  return secs > 0 ? (last[1] - fromValue) / secs : 0
}

/** One layer's line in Ollama's columns: message, percent, a bar filling the width, sizes, rate, time left. */
export function renderBar (b: Bar, columns: number): string {
  const percent = b.total > 0 ? 100 * b.completed / b.total : 0
  const pre = `${b.status} ${right(percent.toFixed(0), 3)}%`
  const running = b.stopped === undefined
  const rate = rateOf(b)
  let suf = running ? `${right(humanBytes(b.completed))}/${right(humanBytes(b.total))}` : `${right(humanBytes(b.total))}${' '.repeat(7)}`
  suf += running && rate > 0 ? `  ${right(humanBytes(rate))}/s` : ' '.repeat(10)
  suf += running && rate > 0 ? `  ${right(humanDuration((b.total - b.completed) / rate))}` : ' '.repeat(8)
  const width = Math.max(0, columns - pre.length - suf.length - 5)
  const fill = Math.min(width, Math.floor(width * percent / 100))
  return `${pre} ▕${'█'.repeat(fill)}${' '.repeat(width - fill)}▏ ${suf}`
}

/** As `ollama pull` labels a layer ("pulling 6a0746a1ec1a:"); a push keeps the server's status. */
const barMessage = (status: string, digest: string): string => {
  const hex = digest.replace(/^sha256:/, '').slice(0, 12)
  return status === '' || status.startsWith('pulling') ? `pulling ${hex}:` : status
}

export function createProgressView (out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressView {
  const tty = out.isTTY === true
  const columns = (): number => tty && typeof out.columns === 'number' && out.columns > 0 ? out.columns : DEFAULT_COLUMNS
  // Bars and status lines in the order they first appeared, as `ollama pull` shows them.
  const order: Array<{ digest: string } | { status: string }> = []
  const bars = new Map<string, Bar>()
  const printed = new Set<string>()
  let lastStatus = ''
  let drawn = 0

  const draw = (): void => {
    const lines = order.map(i => 'digest' in i ? renderBar(bars.get(i.digest) as Bar, columns()) : i.status)
    if (drawn > 0) out.write(`\x1b[${drawn}A`)
    for (const l of lines) out.write(`\x1b[2K${l}\n`)
    drawn = lines.length
  }

  return {
    update: (line) => {
      const status = String(line.status ?? '')
      const digest = typeof line.digest === 'string' ? line.digest : undefined
      if (digest !== undefined && typeof line.total === 'number') {
        const completed = typeof line.completed === 'number' ? Math.min(line.completed, line.total) : 0
        let b = bars.get(digest)
        if (b === undefined) {
          b = { status: barMessage(status, digest), total: line.total, completed, initial: completed, started: now(), samples: [] }
          bars.set(digest, b)
          order.push({ digest })
        }
        b.completed = completed
        b.total = line.total
        if (b.completed >= b.total) b.stopped ??= now()
        const last = b.samples[b.samples.length - 1]
        if (last === undefined || now() - last[0] > 1000) {
          b.samples.push([now(), b.completed])
          if (b.samples.length > SAMPLES) b.samples.shift()
        }
      } else if (lastStatus !== status) {
        lastStatus = status
        order.push({ status })
      }
      if (tty) { draw(); return }
      // Off a terminal: each status once, and each layer's bar once it is complete.
      if (digest === undefined) {
        if (!printed.has(`s:${status}`)) { printed.add(`s:${status}`); out.write(`${status}\n`) }
        return
      }
      const b = bars.get(digest)
      if (b?.stopped !== undefined && !printed.has(digest)) { printed.add(digest); out.write(`${renderBar(b, columns()).trimEnd()}\n`) }
    },
    done: () => { if (tty) draw() }
  }
}
