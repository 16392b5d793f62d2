import type { Clock } from '../util/clock.js'
import type { NodeRecord, SignedRecord } from './record.js'
import type { Version } from '../../proto/cluster.js'
import { DEFAULT_GONE_AFTER_MS, DEFAULT_SUSPECT_AFTER_MS, MAX_MEMBERS } from './constants.js'
import { OllamadError } from '../errors.js'
import { createListeners } from '../util/listeners.js'

export type Liveness = 'alive' | 'suspect' | 'gone'

export interface Member {
  peerId: string
  record: NodeRecord
  signed: SignedRecord
  /** Local time at which this node's (incarnation, sequence) last rose. */
  lastRise: number
  liveness: Liveness
  self: boolean
}

export interface MergeResult {
  /** The record was newer than what we held and replaced it. */
  changed: boolean
  /** Sequence numbers were skipped: updates went missing, so a full sync is due. */
  gap: boolean
}

export interface ClusterStateInit {
  selfId: string
  /** @default 10000 */
  suspectAfterMs?: number
  /** @default 30000 */
  goneAfterMs?: number
}

export interface ClusterState {
  selfId: string
  merge: (signed: SignedRecord, record: NodeRecord) => MergeResult
  members: () => Member[]
  member: (peerId: string) => Member | undefined
  versions: () => Version[]
  onChange: (l: (m: Member) => void) => () => void
  /** Counters an operator can read: records merged, stale ones ignored, messages dropped. */
  stats: { merged: number, stale: number, dropped: number }
}

/** (incarnation, sequence) compared in order: a restarted node's records supersede its old ones. */
export function compareVersion (a: { incarnation: bigint, sequence: bigint }, b: { incarnation: bigint, sequence: bigint }): number {
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation ? 1 : -1
  if (a.sequence !== b.sequence) return a.sequence > b.sequence ? 1 : -1
  return 0
}

/**
 * The node records of the cluster, merged by (incarnation, sequence). Liveness comes from the
 * local time at which a node's version last rose, never from times inside records, so a relayed
 * old record is no sign of life.
 */
export function createClusterState (clock: Clock, init: ClusterStateInit): ClusterState {
  const suspectAfter = init.suspectAfterMs ?? DEFAULT_SUSPECT_AFTER_MS
  const goneAfter = init.goneAfterMs ?? DEFAULT_GONE_AFTER_MS
  const entries = new Map<string, { record: NodeRecord, signed: SignedRecord, lastRise: number }>()
  const listeners = createListeners<[Member]>()
  const stats = { merged: 0, stale: 0, dropped: 0 }

  const view = (peerId: string, e: { record: NodeRecord, signed: SignedRecord, lastRise: number }): Member => {
    const self = peerId === init.selfId
    const age = clock.now() - e.lastRise
    const liveness: Liveness = self || age < suspectAfter ? 'alive' : age < goneAfter ? 'suspect' : 'gone'
    return { peerId, record: e.record, signed: e.signed, lastRise: e.lastRise, liveness, self }
  }

  return {
    selfId: init.selfId,
    stats,
    merge: (signed, record) => {
      const old = entries.get(record.peerId)
      if (old !== undefined && compareVersion(record, old.record) <= 0) {
        stats.stale++
        return { changed: false, gap: false }
      }
      // Every key holder can mint identities: the records held are bounded, known members first.
      if (old === undefined && record.peerId !== init.selfId && entries.size >= MAX_MEMBERS) throw new OllamadError('SIZE_LIMIT', `more than ${MAX_MEMBERS} node records`)
      const gap = old !== undefined && record.incarnation === old.record.incarnation && record.sequence > old.record.sequence + 1n
      const e = { record, signed, lastRise: clock.now() }
      entries.set(record.peerId, e)
      stats.merged++
      const m = view(record.peerId, e)
      listeners.emit(m)
      return { changed: true, gap }
    },
    members: () => [...entries.entries()].map(([id, e]) => view(id, e)),
    member: (id) => { const e = entries.get(id); return e === undefined ? undefined : view(id, e) },
    versions: () => [...entries.values()].map(e => ({ peerId: e.record.peerId, incarnation: e.record.incarnation, sequence: e.record.sequence })),
    onChange: listeners.on
  }
}
