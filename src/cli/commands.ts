import type { Command } from 'commander'
import { CliError, hostOption, type DaemonClient } from './client.js'
import { clusterPull } from './cluster-jobs.js'
import { createProgressView } from './progress.js'
import { humanBytes, humanTime, table } from './format.js'

interface TagsResponse { models: Array<{ name: string, digest: string, size: number, modified_at: string }> }
interface ClusterPs { nodes: Array<{ name: string, vram: { total: number, used: number, free: number }, models: Array<{ name: string, size: number, size_vram: number, expires_at: string }> }> }

async function streamWithBars (client: DaemonClient, path: string, body: unknown): Promise<void> {
  const view = createProgressView()
  const ac = new AbortController()
  const onInt = (): void => { ac.abort() }
  process.once('SIGINT', onInt)
  try {
    await client.stream(path, { ...body as object, stream: true }, (l) => { view.update(l) }, ac.signal)
  } finally {
    process.off('SIGINT', onInt)
    view.done()
  }
}

/** The Ollama-like client commands; each talks to the daemon's HTTP API. */
export function addModelCommands (program: Command, client: (cmd: Command) => DaemonClient): void {
  hostOption(program.command('pull <model>').description('pull a model from a registry (to this node, or with --all/--nodes to the cluster)'))
    .option('--insecure', 'use plain http for the registry')
    .option('--all', 'pull to every live node of the cluster')
    .option('--nodes <a,b,...>', 'pull to these nodes (names or peer ids)')
    .option('--detach', 'with --all/--nodes: print the job id and return')
    .action(async (model: string, o: { insecure?: boolean, all?: boolean, nodes?: string, detach?: boolean }, cmd: Command) => {
      if (o.all === true && o.nodes !== undefined) throw new CliError('--all and --nodes exclude each other')
      if (o.all === true || o.nodes !== undefined) {
        const nodes = o.all === true ? 'all' : (o.nodes as string).split(',').map(s => s.trim()).filter(s => s !== '')
        await clusterPull(client(cmd), model, nodes, o)
        return
      }
      if (o.detach === true) throw new CliError('--detach needs --all or --nodes')
      await streamWithBars(client(cmd), '/api/pull', { model, insecure: o.insecure === true })
    })

  hostOption(program.command('push <model>').description('push a model to its registry'))
    .option('--insecure', 'use plain http for the registry')
    .action(async (model: string, o: { insecure?: boolean }, cmd: Command) => {
      await streamWithBars(client(cmd), '/api/push', { model, insecure: o.insecure === true })
    })

  hostOption(program.command('list [prefix]').alias('ls').description('list the models in the cluster (those whose names start with prefix)'))
    .action(async (prefix: string | undefined, _o: unknown, cmd: Command) => {
      const r = await client(cmd).json<TagsResponse>('GET', '/api/tags')
      const models = r.models.filter(m => prefix === undefined || m.name.startsWith(prefix))
      const rows = [['NAME', 'ID', 'SIZE', 'MODIFIED'], ...models.map(m => [m.name, m.digest.slice(0, 12), humanBytes(m.size), humanTime(m.modified_at)])]
      process.stdout.write(table(rows) + '\n')
    })

  hostOption(program.command('show <model>').description('show a model\'s details'))
    .option('--modelfile', 'print the Modelfile')
    .option('--parameters', 'print the parameters')
    .option('--template', 'print the template')
    .option('--system', 'print the system prompt')
    .option('--license', 'print the license')
    .action(async (model: string, o: Record<string, boolean | undefined>, cmd: Command) => {
      const r = await client(cmd).json<Record<string, unknown>>('POST', '/api/show', { model })
      for (const k of ['modelfile', 'parameters', 'template', 'system', 'license']) {
        if (o[k] === true) { process.stdout.write(String(r[k] ?? '') + '\n'); return }
      }
      const d = (r.details ?? {}) as Record<string, unknown>
      const info = (r.model_info ?? {}) as Record<string, unknown>
      const arch = String(info['general.architecture'] ?? d.family ?? '')
      const rows = [
        ['architecture', arch],
        ['parameters', String(d.parameter_size ?? '')],
        ['context length', String(info[`${arch}.context_length`] ?? '')],
        ['embedding length', String(info[`${arch}.embedding_length`] ?? '')],
        ['quantization', String(d.quantization_level ?? '')]
      ].filter(([, v]) => v !== '')
      process.stdout.write('  Model\n' + table(rows).split('\n').map(l => '    ' + l).join('\n') + '\n')
      const caps = (r.capabilities as string[] | undefined) ?? []
      if (caps.length > 0) process.stdout.write('\n  Capabilities\n' + caps.map(c => `    ${c}`).join('\n') + '\n')
    })

  hostOption(program.command('rm <models...>').description('remove models from this node (or with --cluster from every node)'))
    .option('--cluster', 'delete everywhere, also on nodes that are offline now')
    .action(async (models: string[], o: { cluster?: boolean }, cmd: Command) => {
      for (const model of models) {
        if (o.cluster === true) await client(cmd).json('POST', '/api/cluster/delete', { model })
        else await client(cmd).json('DELETE', '/api/delete', { model })
        process.stdout.write(`deleted '${model}'${o.cluster === true ? ' from the cluster' : ''}\n`)
      }
    })

  hostOption(program.command('cp <source> <destination>').description('copy a model'))
    .action(async (source: string, destination: string, _o: unknown, cmd: Command) => {
      await client(cmd).json('POST', '/api/copy', { source, destination })
      process.stdout.write(`copied '${source}' to '${destination}'\n`)
    })

  hostOption(program.command('ps').description('models loaded on every node, with VRAM used and free'))
    .action(async (_o: unknown, cmd: Command) => {
      const r = await client(cmd).json<ClusterPs>('GET', '/api/cluster/ps')
      const proc = (m: { size: number, size_vram: number }): string => m.size_vram >= m.size ? '100% GPU' : m.size_vram === 0 ? '100% CPU' : `${Math.round(100 * (m.size - m.size_vram) / m.size)}%/${Math.round(100 * m.size_vram / m.size)}% CPU/GPU`
      const vram = (n: ClusterPs['nodes'][number]): string => n.vram.total === 0 ? '-' : `${humanBytes(n.vram.used)} used, ${humanBytes(n.vram.free)} free`
      const rows = [['NODE', 'NAME', 'SIZE', 'PROCESSOR', 'UNTIL', 'VRAM'], ...r.nodes.flatMap(n => n.models.length === 0
        ? [[n.name, '-', '', '', '', vram(n)]]
        : n.models.map(m => [n.name, m.name, humanBytes(m.size), proc(m), humanTime(m.expires_at), vram(n)]))]
      process.stdout.write(table(rows) + '\n')
    })

  for (const verb of ['load', 'unload'] as const) {
    hostOption(program.command(`${verb} <model>`).description(verb === 'load' ? 'load a model into Ollama on the best node (or --node)' : 'unload a model everywhere it is loaded (or on --node)'))
      .option('--node <node>', 'the node (name or peer id)')
      .action(async (model: string, o: { node?: string }, cmd: Command) => {
        const r = await client(cmd).json<{ node?: string, nodes?: string[] }>('POST', `/api/cluster/${verb}`, { model, ...(o.node !== undefined ? { node: o.node } : {}) })
        process.stdout.write(verb === 'load' ? `loaded ${model} on ${r.node ?? '?'}\n` : `unloaded ${model} from ${(r.nodes ?? []).join(', ') || 'no node'}\n`)
      })
  }
}
