/** Operator-facing log lines; debug output per component only when OLLAMAD_DEBUG names it. */
export interface Logger {
  info: (msg: string) => void
  error: (msg: string) => void
  debug: (msg: string) => void
}

export function createLogger (component: string, sink: (line: string) => void = (l) => { process.stderr.write(l + '\n') }): Logger {
  const debugOn = (process.env.OLLAMAD_DEBUG ?? '').split(',').some(p => p === '*' || p === component || (p.endsWith('*') && component.startsWith(p.slice(0, -1))))
  const line = (level: string, msg: string): string => `${new Date().toISOString()} ${level} ${component}: ${msg}`
  return {
    info: (m) => { sink(line('INFO', m)) },
    error: (m) => { sink(line('ERROR', m)) },
    debug: (m) => { if (debugOn) sink(line('DEBUG', m)) }
  }
}

export const silentLogger: Logger = { info: () => {}, error: () => {}, debug: () => {} }
