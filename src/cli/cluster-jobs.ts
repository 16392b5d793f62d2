import { CliError, type DaemonClient } from './client.js'
import { humanBytes } from './format.js'

export interface JobNode { name: string, state: string, completed: number, total: number, error?: string }
export interface JobView { id: string, model: string, created_at: string, state: string, nodes: JobNode[] }

const pct = (n: JobNode): string => n.state === 'completed' ? '100%' : n.total > 0 ? `${Math.floor(100 * n.completed / n.total)}%` : ''
const BAR = 20
const bar = (n: JobNode): string => {
  const f = n.state === 'completed' ? 1 : n.total > 0 ? Math.min(1, n.completed / n.total) : 0
  return `▕${'█'.repeat(Math.round(f * BAR)).padEnd(BAR, ' ')}▏`
}
export const nodeLine = (n: JobNode): string => `${n.name.padEnd(20)} ${n.state.padEnd(10)} ${bar(n)} ${pct(n).padStart(4)}  ${n.total > 0 ? `${humanBytes(n.completed)}/${humanBytes(n.total)}` : ''}${n.error !== undefined ? `  ${n.error}` : ''}`

/** Follows a job until every node is done: one line per node, redrawn in place on a terminal. */
async function follow (client: DaemonClient, id: string): Promise<JobView> {
  const tty = process.stderr.isTTY === true
  let drawn = 0
  let last = ''
  for (;;) {
    const j = await client.json<JobView>('GET', `/api/cluster/jobs/${encodeURIComponent(id)}`)
    const lines = j.nodes.map(nodeLine)
    const text = lines.join('\n')
    if (tty) {
      if (drawn > 0) process.stderr.write(`\x1b[${drawn}A`)
      process.stderr.write(lines.map(l => `\x1b[2K${l}`).join('\n') + '\n')
      drawn = lines.length
    } else if (text !== last) {
      process.stderr.write(text + '\n')
    }
    last = text
    if (j.state !== 'running') return j
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

/** `ollamad pull MODEL --all | --nodes a,b [--detach]`: a cluster job, followed until every node is done. */
export async function clusterPull (client: DaemonClient, model: string, nodes: 'all' | string[], o: { insecure?: boolean, detach?: boolean }): Promise<void> {
  const r = await client.json<{ id: string, existing: boolean }>('POST', '/api/cluster/pull', { model, nodes, insecure: o.insecure === true })
  if (o.detach === true) { process.stdout.write(r.id + '\n'); return }
  const j = await follow(client, r.id)
  const failed = j.nodes.filter(n => n.state !== 'completed')
  if (failed.length > 0) throw new CliError(`${failed.length} of ${j.nodes.length} nodes did not finish: ${failed.map(n => `${n.name}: ${n.error ?? n.state}`).join('; ')}`)
  process.stdout.write(`success: ${j.model} on ${j.nodes.length} node${j.nodes.length === 1 ? '' : 's'}\n`)
}
