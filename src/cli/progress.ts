import { humanBytes, humanDuration } from './format.js'

interface Bar { status: string, total: number, completed: number, samples: Array<[number, number]> }

/**
 * Renders pull/push progress: one bar per layer with speed and ETA on a terminal, redrawn in
 * place; plain status lines when the output is not a terminal.
 */
export interface ProgressView { update: (line: Record<string, unknown>) => void, done: () => void }

export function createProgressView (out: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressView {
  const tty = out.isTTY === true
  // Bars and status lines in the order they first appeared, as `ollama pull` shows them.
  const order: Array<{ digest: string } | { status: string }> = []
  const bars = new Map<string, Bar>()
  let lastStatus = ''
  let drawn = 0
  let lastPrinted = ''

  const render = (b: Bar): string => {
    const pct = b.total > 0 ? Math.floor(b.completed * 100 / b.total) : 0
    const width = 25
    const fill = Math.round(width * pct / 100)
    const first = b.samples[0] ?? [now(), 0]
    const last = b.samples[b.samples.length - 1] ?? first
    const rate = last[0] > first[0] ? (last[1] - first[1]) * 1000 / (last[0] - first[0]) : 0
    const tail = b.completed >= b.total ? '' : rate > 0 ? `  ${humanBytes(rate)}/s  ${humanDuration((b.total - b.completed) / rate)}` : ''
    return `${b.status}: ${String(pct).padStart(3)}% ▕${'█'.repeat(fill)}${' '.repeat(width - fill)}▏ ${humanBytes(b.completed)}/${humanBytes(b.total)}${tail}`
  }

  const draw = (): void => {
    const lines = order.map(i => 'digest' in i ? render(bars.get(i.digest) as Bar) : i.status)
    if (drawn > 0) out.write(`\x1b[${drawn}A`)
    for (const l of lines) out.write(`\x1b[2K${l}\n`)
    drawn = lines.length
  }

  return {
    update: (line) => {
      const status = String(line.status ?? '')
      const digest = typeof line.digest === 'string' ? line.digest : undefined
      if (digest !== undefined && typeof line.total === 'number') {
        let b = bars.get(digest)
        if (b === undefined) {
          b = { status, total: line.total, completed: 0, samples: [] }
          bars.set(digest, b)
          order.push({ digest })
        }
        b.completed = typeof line.completed === 'number' ? line.completed : 0
        b.total = line.total
        b.samples.push([now(), b.completed])
        while (b.samples.length > 2 && now() - (b.samples[0] as [number, number])[0] > 5000) b.samples.shift()
      } else if (lastStatus !== status) {
        lastStatus = status
        order.push({ status })
      }
      if (tty) { draw(); return }
      const text = digest !== undefined ? `${status}` : status
      if (text !== lastPrinted && (digest === undefined || !bars.has(digest) || bars.get(digest)?.completed === bars.get(digest)?.total)) {
        out.write(digest !== undefined ? render(bars.get(digest) as Bar) + '\n' : text + '\n')
        lastPrinted = text
      }
    },
    done: () => { if (tty) draw() }
  }
}
