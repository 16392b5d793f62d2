import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { parse as parseYaml } from 'yaml'
import { CliError, hostOption, type DaemonClient } from './client.js'
import { humanBytes, table } from './format.js'
import { nodeLine, type JobView } from './cluster-jobs.js'

/** Pulls to the cluster, replicas, pins, migrations, rebalance, jobs and apply: each a call to /api/cluster/*. */
export function addPlacementCommands (program: Command, client: (cmd: Command) => DaemonClient): void {
  hostOption(program.command('jobs').description('list cluster pull jobs (kept for a day)'))
    .action(async (_o: unknown, cmd: Command) => {
      const r = await client(cmd).json<{ jobs: JobView[] }>('GET', '/api/cluster/jobs')
      const done = (j: JobView): string => `${j.nodes.filter(n => n.state === 'completed').length}/${j.nodes.length}`
      process.stdout.write(table([['ID', 'MODEL', 'STATE', 'NODES DONE', 'CREATED'], ...r.jobs.map(j => [j.id, j.model, j.state, done(j), j.created_at])]) + '\n')
    })

  hostOption(program.command('job <id>').description('show one job, node by node'))
    .option('--cancel', 'cancel it (nodes that finished keep the model)')
    .action(async (id: string, o: { cancel?: boolean }, cmd: Command) => {
      const j = o.cancel === true
        ? await client(cmd).json<JobView>('DELETE', `/api/cluster/jobs/${encodeURIComponent(id)}`)
        : await client(cmd).json<JobView>('GET', `/api/cluster/jobs/${encodeURIComponent(id)}`)
      process.stdout.write(`${j.id}  ${j.model}  ${j.state}\n${j.nodes.map(nodeLine).join('\n')}\n`)
    })

  hostOption(program.command('replicate <model>').description('keep N copies of a model in the cluster (or one on every node)'))
    .requiredOption('--replicas <n|all>', 'how many copies')
    .action(async (model: string, o: { replicas: string }, cmd: Command) => {
      const replicas = o.replicas === 'all' ? 'all' : Number(o.replicas)
      if (replicas !== 'all' && !Number.isInteger(replicas)) throw new CliError('--replicas takes a whole number or "all"')
      await client(cmd).json('POST', '/api/cluster/replicate', { model, replicas })
      process.stdout.write(`${model}: ${o.replicas} replica${o.replicas === '1' ? '' : 's'}\n`)
    })

  for (const [verb, on] of [['pin', true], ['unpin', false]] as const) {
    hostOption(program.command(`${verb} <model> <node>`).description(on ? 'keep a model on a node' : 'let policy move a model off a node again'))
      .action(async (model: string, node: string, _o: unknown, cmd: Command) => {
        await client(cmd).json('POST', `/api/cluster/${verb}`, { model, node })
        process.stdout.write(`${verb}ned ${model} ${on ? 'to' : 'from'} ${node}\n`)
      })
  }

  hostOption(program.command('migrate <model>').description('copy a model to a node, confirm, then drop it at the source'))
    .requiredOption('--from <node>', 'the node that holds it')
    .requiredOption('--to <node>', 'the node that should hold it')
    .action(async (model: string, o: { from: string, to: string }, cmd: Command) => {
      await client(cmd).json('POST', '/api/cluster/migrate', { model, from: o.from, to: o.to })
      process.stdout.write(`migrating ${model} from ${o.from} to ${o.to}\n`)
    })

  hostOption(program.command('rebalance').description('move models toward the ideal spread: copy first, drop after'))
    .option('--dry-run', 'only show the planned moves')
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      const r = await client(cmd).json<{ moves: Array<{ model: string, from?: string, to?: string, bytes: number }> }>('POST', '/api/cluster/rebalance', { dry_run: o.dryRun === true })
      if (r.moves.length === 0) { process.stdout.write('nothing to move\n'); return }
      process.stdout.write(table([['MODEL', 'FROM', 'TO', 'BYTES'], ...r.moves.map(m => [m.model, m.from ?? '-', m.to ?? '-', humanBytes(m.bytes)])]) + '\n')
      if (o.dryRun !== true) process.stdout.write('the nodes move toward this spread now\n')
    })

  hostOption(program.command('apply <file>').description('make the cluster hold what a YAML file says (models: replicas, pins, nodes)'))
    .option('--dry-run', 'only show what would change')
    .action(async (file: string, o: { dryRun?: boolean }, cmd: Command) => {
      let spec: unknown
      try { spec = parseYaml(await readFile(file, 'utf8')) } catch (e) { throw new CliError(`cannot read ${file}: ${(e as Error).message.split('\n')[0] ?? ''}`) }
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new CliError(`${file}: expected a map with a "models" section`)
      const r = await client(cmd).json<{ changes: Array<{ key: string, from: unknown, to: unknown }> }>('POST', '/api/cluster/apply', { spec, dry_run: o.dryRun === true })
      if (r.changes.length === 0) { process.stdout.write('no changes\n'); return }
      for (const c of r.changes) process.stdout.write(`${o.dryRun === true ? 'would set' : 'set'} ${c.key}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}\n`)
    })
}
