import { errorMessage } from '../errors.js'
import { daemonConfig, type StartFlags } from '../cli/index.js'
import { createComponentLogger } from '../util/logger.js'
import { startDaemon } from './daemon.js'

/** `ollamad start`: runs the daemon until SIGINT or SIGTERM; a second signal exits at once. */
export async function runDaemon (flags: StartFlags): Promise<void> {
  const cfg = daemonConfig(flags)
  const logger = createComponentLogger()
  const log = logger.forComponent('daemon')
  // Handlers go in before the daemon starts, so a signal during start-up still stops it cleanly.
  let signalled: string | undefined
  let wake = (): void => {}
  const stopRequested = new Promise<void>((resolve) => { wake = resolve })
  const onSignal = (sig: string): void => {
    if (signalled !== undefined) process.exit(130)
    signalled = sig
    wake()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const daemon = await startDaemon(cfg, { logger })
  await stopRequested
  log.info(`${signalled ?? 'signal'}: stopping (interrupted pulls resume at the next start)`)
  try { await daemon.stop() } catch (e) { log.error(errorMessage(e)) }
  log.info('stopped')
}
