import type { Command } from 'commander'
import { hostOption, type DaemonClient } from './client.js'
import { humanBytes, table } from './format.js'

interface NodesResponse {
  nodes: Array<{ id: string, name: string, self: boolean, liveness: string, disk: { total: number, free: number }, gpus: Array<{ memory_total: number, memory_free: number }>, loaded: unknown[], models: unknown[], ollama: string }>
}
interface ModelsResponse {
  models: Array<{ name: string, size: number, nodes: Array<{ name: string, coverage: string, percent: number }> }>
}

/** `ollamad nodes` and `ollamad models`: the cluster as tables. */
export function addClusterCommands (program: Command, client: (cmd: Command) => DaemonClient): void {
  hostOption(program.command('nodes').description('list the nodes of the cluster'))
    .action(async (_o: unknown, cmd: Command) => {
      const r = await client(cmd).json<NodesResponse>('GET', '/api/cluster/nodes')
      const rows = [['NAME', 'ID', 'STATE', 'DISK FREE', 'VRAM FREE', 'MODELS', 'LOADED', 'OLLAMA'], ...r.nodes.map(n => [
        n.name + (n.self ? ' *' : ''),
        n.id.slice(-12),
        n.liveness,
        `${humanBytes(n.disk.free)}/${humanBytes(n.disk.total)}`,
        n.gpus.length === 0 ? '-' : `${humanBytes(n.gpus.reduce((a, g) => a + g.memory_free, 0))}/${humanBytes(n.gpus.reduce((a, g) => a + g.memory_total, 0))}`,
        String(n.models.length),
        String(n.loaded.length),
        n.ollama
      ])]
      process.stdout.write(table(rows) + '\n')
    })

  hostOption(program.command('verify [model]').description('re-hash local blobs; corrupt ones are fetched again from peers'))
    .action(async (model: string | undefined, _o: unknown, cmd: Command) => {
      let last: Record<string, unknown> = {}
      await client(cmd).stream('/api/cluster/verify', { model: model ?? '', stream: true }, (l) => {
        last = l
        const s = String(l.status ?? '')
        if (!s.startsWith('verifying ') || l.completed === l.total) process.stderr.write(s.replace(/^verifying /, 'ok ') + '\n')
      })
      const corrupt = (last.corrupt as string[] | undefined) ?? []
      process.stdout.write(`${String(last.checked ?? 0)} blobs checked, ${corrupt.length} corrupt${corrupt.length > 0 ? `, repaired: ${((last.repaired as string[] | undefined) ?? []).join(', ')}` : ''}\n`)
    })

  hostOption(program.command('models').description('every model in the cluster, with each node\'s coverage'))
    .action(async (_o: unknown, cmd: Command) => {
      const r = await client(cmd).json<ModelsResponse>('GET', '/api/cluster/models')
      const names = r.models[0]?.nodes.map(n => n.name) ?? []
      const cell = (c: { coverage: string, percent: number }): string => c.coverage === 'complete' ? 'yes' : c.coverage === 'partial' ? `${c.percent}%` : '-'
      const rows = [['MODEL', 'SIZE', ...names], ...r.models.map(m => [m.name, humanBytes(m.size), ...m.nodes.map(cell)])]
      process.stdout.write(table(rows) + '\n')
    })
}
