import type { Command } from 'commander'
import { realpathSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CliError } from './client.js'

export interface ServiceOptions {
  /** Absolute node binary, its flags, and the ollamad script. */
  exec: string[]
  user: string
  envFile: string
  /** `ollamad start` flags for the environment file. */
  flags: string[]
}

/** Flags go through systemd's word splitting of $OLLAMAD_ARGS: no spaces, quotes or expansions. */
const SAFE_FLAG = /^[A-Za-z0-9_@%+=:,./-]+$/

/** The unit (beside ollama.service, as its user) and the environment file that holds the flags. */
export function serviceFiles (o: ServiceOptions): { unit: string, env: string } {
  for (const f of o.flags) if (!SAFE_FLAG.test(f)) throw new CliError(`cannot put ${JSON.stringify(f)} in the service's flags: use no spaces, quotes or $`)
  for (const part of [...o.exec, o.envFile]) if (!part.startsWith('/') && !part.startsWith('--')) throw new CliError(`${part} is not an absolute path`)
  const unit = `[Unit]
Description=ollamad: peer-to-peer model cache and router beside Ollama
After=network-online.target ollama.service
Wants=network-online.target

[Service]
Type=exec
User=${o.user}
Group=${o.user}
EnvironmentFile=-${o.envFile}
ExecStart=${o.exec.join(' ')} start $OLLAMAD_ARGS
Restart=on-failure
RestartSec=3
# SIGTERM stops it cleanly: pulls that run resume at the next start.
KillSignal=SIGTERM
TimeoutStopSec=30
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`
  const env = `# Flags for \`ollamad start\` (see \`ollamad start --help\`); they apply at the next restart.
# The data dir defaults to ~${o.user}/.ollamad and the models to ~${o.user}/.ollama/models, as
# Ollama's own service keeps them. For a cluster: --swarm-key /etc/ollamad/swarm.key
OLLAMAD_ARGS="${o.flags.join(' ')}"
`
  return { unit, env }
}

export function addServiceCommand (program: Command): void {
  program.command('install-service')
    .description('write a systemd unit for ollamad beside ollama.service, and an environment file with its start flags (after --)')
    .argument('[start-flags...]', 'flags for ollamad start, after --')
    .option('--dry-run', 'print the unit and the environment file instead of writing them')
    .option('--user <user>', 'the service user (Ollama\'s own)', 'ollama')
    .option('--unit-dir <dir>', 'where the unit goes', '/etc/systemd/system')
    .option('--flags-file <file>', 'the environment file that holds the flags', '/etc/default/ollamad')
    // Not --env-file: Node 20 takes that flag for itself wherever it appears.
    .option('--force', 'replace an environment file that exists')
    .action(async (flags: string[], o: { dryRun?: boolean, user: string, unitDir: string, flagsFile: string, force?: boolean }) => {
      const script = realpathSync(process.argv[1] as string)
      const files = serviceFiles({ exec: [process.execPath, ...process.execArgv, script], user: o.user, envFile: o.flagsFile, flags })
      const unitPath = join(o.unitDir, 'ollamad.service')
      if (o.dryRun === true) {
        process.stdout.write(`# ${unitPath}\n${files.unit}\n# ${o.flagsFile}\n${files.env}`)
        return
      }
      try {
        await writeFile(o.flagsFile, files.env, { mode: 0o644, flag: o.force === true ? 'w' : 'wx' })
        await writeFile(unitPath, files.unit, { mode: 0o644 })
      } catch (e) {
        const err = e as NodeJS.ErrnoException
        throw new CliError(err.code === 'EEXIST' ? `${o.flagsFile} exists (it holds the flags); use --force to replace it` : `cannot write the service files: ${err.code ?? err.message}`)
      }
      process.stderr.write(`wrote ${unitPath} and ${o.flagsFile}; start it with: systemctl daemon-reload && systemctl enable --now ollamad\n`)
    })
}
