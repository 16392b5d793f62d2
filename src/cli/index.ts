export { runCli, type StartCommand } from './program.js'
export { daemonConfig, type DaemonConfig, type StartFlags } from './config.js'
