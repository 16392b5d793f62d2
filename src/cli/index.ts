export { runCli, buildProgram, type StartCommand } from './program.js'
export { daemonConfig, daemonUrl, parseHostPort, DEFAULT_API_HOST, DEFAULT_API_PORT, DEFAULT_OLLAMA_URL, type DaemonConfig, type StartFlags } from './config.js'
