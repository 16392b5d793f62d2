export { startDaemon, type Daemon, type DaemonDeps } from './daemon.js'
export { runDaemon } from './run.js'
export { DAEMON_NODE_FLAGS } from './node-flags.js'
