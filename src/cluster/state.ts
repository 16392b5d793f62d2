import type { Clock } from '../util/clock.js'
import type { NodeRecord, SignedRecord } from './record.js'
import type { Version } from '../../proto/cluster.js'
import { DEFAULT_FORGET_AFTER_MS, DEFAULT_GONE_AFTER_MS, DEFAULT_SUSPECT_AFTER_MS, MAX_FORGOTTEN, MAX_MEMBERS, MAX_RECORDS_TOTAL_BYTES } from './constants.js'
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
  /** How long a gone node's record is kept before it is forgotten. @default 72 h */
  forgetAfterMs?: number
}

export interface ClusterState {
  selfId: string
  merge: (signed: SignedRecord, record: NodeRecord) => MergeResult
  members: () => Member[]
  member: (peerId: string) => Member | undefined
  versions: () => Version[]
  onChange: (l: (m: Member) => void) => () => void
  /** Drops the records of nodes silent for longer than the forget time, and returns them. */
  forget: () => Member[]
  /** Whether this node forgot that peer (since it started) and has heard nothing newer of it. */
  forgotten: (peerId: string) => boolean
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
  const forgetAfter = Math.max(goneAfter, init.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS)
  const entries = new Map<string, { record: NodeRecord, signed: SignedRecord, lastRise: number }>()
  /** Forgotten peers and the last version seen of each, oldest first. */
  const forgotten = new Map<string, { incarnation: bigint, sequence: bigint }>()
  /** Bytes of the records of other nodes held now. */
  let held = 0
  const size = (id: string, s: SignedRecord): number => id === init.selfId ? 0 : s.record.byteLength
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
      const last = old?.record ?? forgotten.get(record.peerId)
      if (last !== undefined && compareVersion(record, last) <= 0) {
        stats.stale++
        return { changed: false, gap: false }
      }
      // Every key holder can mint identities: the records held are bounded, in number and in bytes, known members first.
      if (old === undefined && record.peerId !== init.selfId && entries.size >= MAX_MEMBERS) throw new OllamadError('SIZE_LIMIT', `more than ${MAX_MEMBERS} node records`)
      const grows = size(record.peerId, signed) - (old === undefined ? 0 : size(record.peerId, old.signed))
      if (grows > 0 && held + grows > MAX_RECORDS_TOTAL_BYTES) throw new OllamadError('SIZE_LIMIT', `node records would take more than ${MAX_RECORDS_TOTAL_BYTES} bytes`)
      held += grows
      forgotten.delete(record.peerId)
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
    onChange: listeners.on,
    forget: () => {
      const out: Member[] = []
      const now = clock.now()
      for (const [id, e] of entries) {
        if (id === init.selfId || now - e.lastRise < forgetAfter) continue
        out.push(view(id, e))
        entries.delete(id)
        held -= size(id, e.signed)
        forgotten.set(id, { incarnation: e.record.incarnation, sequence: e.record.sequence })
        if (forgotten.size > MAX_FORGOTTEN) forgotten.delete(forgotten.keys().next().value as string)
      }
      return out
    },
    forgotten: (id) => forgotten.has(id)
  }
}

/** The alive member with the lowest peer id: the one node that does a cluster-wide chore. */
export const firstAlive = (members: Member[]): string | undefined =>
  members.filter(m => m.liveness === 'alive').map(m => m.peerId).sort()[0]
