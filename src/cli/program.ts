import { Command, CommanderError } from 'commander'
import { OllamadError } from '../errors.js'
import type { StartFlags } from './config.js'
import { cliToken, daemonUrl } from './target.js'
import { CliError, createDaemonClient, type DaemonClient } from './client.js'
import { addModelCommands } from './commands.js'
import { addClusterCommands } from './cluster-commands.js'
import { addPlacementCommands } from './placement-commands.js'
import { addServiceCommand } from './service.js'
import { VERSION } from '../version.js'
import { writeFile } from 'node:fs/promises'
import { newSwarmKey } from '../p2p/index.js'
import { join } from 'node:path'
import { TOKEN_FILE_NAME, defaultDataDir, readToken } from '../api/index.js'

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** What runs `ollamad start`: the daemon, handed in by the composition root (the CLI does not know it). */
export type StartCommand = (flags: StartFlags) => Promise<void>

export function buildProgram (start: StartCommand): Command {
  const program = new Command('ollamad')
    .description('peer-to-peer model store and router for Ollama nodes')
    .version(VERSION)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => { process.stderr.write(s) } })

  program.command('start')
    .description('run the daemon (Ollama-compatible API on 127.0.0.1:11435)')
    .option('--host <host:port>', 'API listen address', '127.0.0.1:11435')
    .option('--open <classes>', 'route classes callable without the token: read, infer, pull, write, cluster or none (default: read,infer,pull,write on loopback, read,infer elsewhere)')
    .option('--token-file <file>', 'the API token (default: DATA/api-token, made on first start, mode 0600)')
    .option('--origins <list>', 'browser origins allowed besides Ollama\'s defaults, comma-separated (also $OLLAMA_ORIGINS)')
    .option('--models <dir>', 'Ollama models directory (default: $OLLAMA_MODELS or ~/.ollama/models)')
    .option('--data <dir>', 'state directory (default: $OLLAMAD_DATA or ~/.ollamad)')
    .option('--ollama <url>', 'the local Ollama (never taken from OLLAMA_HOST)', 'http://127.0.0.1:11434')
    .option('--insecure-registry <host[:port]>', 'use plain http for this registry (repeatable)', collect, [])
    .option('--max-download-rate <rate>', 'cap on registry download traffic, e.g. 50M (bytes/s)')
    .option('--concurrency <n>', 'most parallel Range requests per blob (default 16; starts with 4)')
    .option('--name <name>', 'this node\'s name in the cluster (default: the hostname)')
    .option('--listen <multiaddr>', 'swarm listen address (repeatable; default /ip4/0.0.0.0/tcp/11436)', collect, [])
    .option('--bootstrap <multiaddr>', 'a peer to join through (repeatable)', collect, [])
    .option('--no-mdns', 'do not discover peers by mdns on the local network')
    .option('--swarm-key <file>', 'the cluster\'s pre-shared key (default: a key of this node\'s own)')
    .option('--open-swarm', 'no swarm key: any peer that reaches --listen may join (noise still encrypts); isolated networks only')
    .option('--data-port <port>', 'TLS port for chunk bytes between members (default: the swarm port + 1, or any free port when that is 0)')
    .option('--no-data-plane', 'send chunk bytes over libp2p streams instead (slower; for a firewalled data port)')
    .option('--max-upload-rate <rate>', 'cap on traffic served to peers, e.g. 100M (bytes/s)')
    .option('--heartbeat <duration>', 'how often the node record is re-sent, e.g. 3s (default 3s; a bare number is ms)')
    .option('--suspect-after <duration>', 'silence before a node is suspect (default 10s)')
    .option('--gone-after <duration>', 'silence before a node is gone (default 30s)')
    .option('--forget-after <duration>', 'how long a gone node is kept in the view before it is forgotten (default 72h)')
    .option('--grace <duration>', 'how long a silent node\'s copies still count, and a copy marked for dropping waits (default 5m)')
    .option('--max-cache <size>', 'most bytes of models this node holds; least recently used copies with other holders go first')
    .option('--min-free-disk <size|percent>', 'free disk to keep, e.g. 50G or 10%')
    .option('--parallel <n>', 'inference requests sent to the local Ollama at once (default 4)')
    .option('--max-queue <n>', 'inference requests that may wait; more get 503 (default 64)')
    .action(async (flags: StartFlags) => { await start(flags) })

  program.command('swarm-key [file]')
    .description('write a new swarm key (to the file, or to stdout): copy it to every node and start them with --swarm-key')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string | undefined, o: { force?: boolean }) => {
      const key = newSwarmKey()
      if (file === undefined) { process.stdout.write(Buffer.from(key)); return }
      try {
        await writeFile(file, key, { mode: 0o600, flag: o.force === true ? 'w' : 'wx' })
      } catch (e) {
        throw new CliError((e as NodeJS.ErrnoException).code === 'EEXIST' ? `${file} exists; use --force to replace it` : `cannot write ${file}: ${(e as Error).message}`)
      }
      process.stderr.write(`wrote a new swarm key to ${file}\n`)
    })

  program.command('token')
    .description('print this node\'s API token (for the dashboard, or OLLAMAD_TOKEN on another machine)')
    .option('--data <dir>', 'the daemon\'s data dir (default $OLLAMAD_DATA or ~/.ollamad)')
    .option('--token-file <file>', 'the token file, when the daemon was started with one')
    .action(async (o: { data?: string, tokenFile?: string }) => {
      const file = o.tokenFile ?? join(o.data ?? defaultDataDir(), TOKEN_FILE_NAME)
      const token = await readToken(file).catch((e: Error) => { throw new CliError(`cannot read ${file}: ${e.message}`) })
      if (token === undefined) throw new CliError(`no token in ${file}: start the daemon once (it makes one), or pass --data or --token-file`)
      process.stdout.write(`${token}\n`)
    })

  const client = (cmd: Command): DaemonClient => {
    const o = cmd.optsWithGlobals()
    const url = daemonUrl(o.host as string | undefined)
    return createDaemonClient(url, async () => await cliToken(o.token as string | undefined, url))
  }
  addModelCommands(program, client)
  addClusterCommands(program, client)
  addPlacementCommands(program, client)
  addServiceCommand(program)
  return program
}

/** Parses argv, runs the command, and turns any failure into one line and an exit code. */
export async function runCli (argv: string[], start: StartCommand): Promise<number> {
  const program = buildProgram(start)
  try {
    await program.parseAsync(argv)
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode
    const msg = e instanceof CliError || e instanceof OllamadError || e instanceof Error ? e.message : String(e)
    process.stderr.write(`Error: ${msg}\n`)
    return 1
  }
}
