/** Operator-facing log lines of one component: info and error always, debug when OLLAMAD_DEBUG names it. */
export interface Logger {
  info: (msg: string) => void
  error: (msg: string) => void
  debug: (msg: string) => void
}

/**
 * Hands each component a logger of its own, named `ollamad:<component>` (libp2p's ComponentLogger
 * pattern), so debug output can be switched on per component: `OLLAMAD_DEBUG=ollamad:transfer`
 * (its parts too, such as `ollamad:transfer:serve`), `ollamad` or `*` for all.
 */
export interface ComponentLogger {
  forComponent: (component: string) => Logger
}

export interface ComponentLoggerInit {
  /** @default 'ollamad' */
  prefix?: string
  /** Comma-separated names or `prefix*` patterns. @default process.env.OLLAMAD_DEBUG */
  debug?: string
  /** Where lines go. @default stderr */
  sink?: (line: string) => void
}

const toStderr = (line: string): void => { process.stderr.write(line + '\n') }

/** Whether a comma-separated list of names and `prefix*` patterns names `component`; a name covers its parts (`ollamad` all of them). */
export function debugEnabled (patterns: string, component: string): boolean {
  return patterns.split(',').map(p => p.trim()).filter(p => p !== '').some(p =>
    p === '*' || p === component || component.startsWith(p + ':') || (p.endsWith('*') && component.startsWith(p.slice(0, -1))))
}

export function createLogger (component: string, sink: (line: string) => void = toStderr, debug = process.env.OLLAMAD_DEBUG ?? ''): Logger {
  const debugOn = debugEnabled(debug, component)
  const line = (level: string, msg: string): string => `${new Date().toISOString()} ${level} ${component}: ${msg}`
  return {
    info: (m) => { sink(line('INFO', m)) },
    error: (m) => { sink(line('ERROR', m)) },
    debug: (m) => { if (debugOn) sink(line('DEBUG', m)) }
  }
}

export function createComponentLogger (init: ComponentLoggerInit = {}): ComponentLogger {
  const prefix = init.prefix ?? 'ollamad'
  return { forComponent: (component) => createLogger(`${prefix}:${component}`, init.sink, init.debug) }
}

export const silentLogger: Logger = { info: () => {}, error: () => {}, debug: () => {} }
