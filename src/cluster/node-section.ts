import { statfs } from 'node:fs/promises'
import type { P2pNode } from '../p2p/index.js'
import { cachedFor } from '../util/cached.js'
import type { Clock } from '../util/clock.js'
import { VERSION } from '../version.js'
import type { RecordSections } from './sections.js'

/** Disk space is read at most this often: records go out far more often. */
const DISK_READ_MS = 2_000

export interface NodeSectionComponents {
  sections: RecordSections
  node: Pick<P2pNode, 'getMultiaddrs'>
  clock: Clock
  /** Where this node's HTTP API listens ('' until it does). */
  apiUrl: () => string
  /** The data port that takes blob requests (0 for none, or until it listens). @default none */
  dataPort?: () => number
}

export interface NodeSectionInit {
  name: string
  /** A path on the disk that holds the models: its size and free space go into the record. */
  diskPath: string
}

/** Adds the node itself to its record: name, swarm addresses, API URL, version, data port, and the disk its models live on. */
export function addNodeSection (c: NodeSectionComponents, init: NodeSectionInit): void {
  const disk = cachedFor(c.clock, DISK_READ_MS, async () => await statfs(init.diskPath).catch(() => undefined))
  c.sections.add('node', async () => {
    const fs = await disk.get()
    return {
      name: init.name,
      addrs: c.node.getMultiaddrs().map(a => a.toString()),
      apiUrl: c.apiUrl(),
      version: VERSION,
      diskTotal: fs !== undefined ? BigInt(fs.blocks) * BigInt(fs.bsize) : 0n,
      diskFree: fs !== undefined ? BigInt(fs.bavail) * BigInt(fs.bsize) : 0n,
      dataPort: c.dataPort?.() ?? 0
    }
  })
}
