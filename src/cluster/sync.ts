import { pbStream } from '@libp2p/utils'
import type { Stream, PeerId } from '@libp2p/interface'
import { SyncRequest, SyncResponse } from '../../proto/cluster.js'
import type { ClusterState } from './state.js'
import type { IntentStore } from './intents.js'
import { verifyIntent } from './intent-codec.js'
import { compareVersion } from './state.js'
import { verifyRecord } from './record.js'
import type { Logger } from '../util/logger.js'
import { MAX_INTENTS, MAX_SYNC_RESPONSE_BYTES } from './constants.js'

const MAX_SYNC_REQUEST_BYTES = 1024 * 1024
const SYNC_TIMEOUT_MS = 10_000

/** Answers a sync request with every record newer than what the asker says it holds. */
export function createSyncHandler (state: ClusterState, intents: IntentStore, log: Logger) {
  return async (stream: Stream): Promise<void> => {
    const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS)
    try {
      // A request is a list of versions: it never needs the room an answer may take.
      const pb = pbStream(stream, { maxDataLength: MAX_SYNC_REQUEST_BYTES })
      const req = await pb.read(SyncRequest, { signal, limits: { have: 100_000 } } as never) as SyncRequest
      if (req.have.length > 100_000) throw new Error('too many versions')
      const theirs = new Map(req.have.map(v => [v.peerId, v]))
      const records = state.members()
        .filter(m => { const v = theirs.get(m.peerId); return v === undefined || compareVersion(m.record, v) > 0 })
        .map(m => m.signed)
      // Intents only when the asker holds another set (or says nothing of it): they can be many.
      await pb.write({ records, intents: intents.matches(req.intentsDigest) ? [] : intents.entries().map(e => e.signed) }, SyncResponse, { signal })
      await stream.close({ signal })
    } catch (e) {
      state.stats.dropped++
      log.debug(`sync request failed: ${(e as Error).message}`)
      stream.abort(e as Error)
    }
  }
}

/** Asks one peer for the records we lack and merges the ones whose signatures hold. */
export async function syncWith (dial: (peer: PeerId, signal: AbortSignal) => Promise<Stream>, peer: PeerId, state: ClusterState, intents: IntentStore, log: Logger): Promise<number> {
  const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS)
  const stream = await dial(peer, signal)
  try {
    const pb = pbStream(stream, { maxDataLength: MAX_SYNC_RESPONSE_BYTES })
    await pb.write({ have: state.versions(), intentsDigest: intents.digest() }, SyncRequest, { signal })
    const res = await pb.read(SyncResponse, { signal })
    let merged = 0
    for (const signed of res.records) {
      try {
        const record = await verifyRecord(signed)
        if (record.peerId === state.selfId) continue
        if (state.merge(signed, record).changed) merged++
      } catch (e) {
        state.stats.dropped++
        log.debug(`dropped a synced record from ${peer.toString()}: ${(e as Error).message}`)
      }
    }
    for (const signed of res.intents.slice(0, MAX_INTENTS)) {
      try {
        if (intents.merge(signed, await verifyIntent(signed))) merged++
      } catch (e) {
        state.stats.dropped++
        log.debug(`dropped a synced intent from ${peer.toString()}: ${(e as Error).message}`)
      }
    }
    await stream.close({ signal }).catch(() => {})
    return merged
  } catch (e) {
    stream.abort(e as Error)
    throw e
  }
}
