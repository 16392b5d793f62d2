import type { Logger } from '../util/logger.js'
import type { IntentStore } from './intents.js'
import type { SignedIntent } from './intent-codec.js'
import { firstAlive, type ClusterState } from './state.js'

export interface ForgetComponents {
  state: ClusterState
  intents: IntentStore
  publishIntents: (signed: SignedIntent[]) => Promise<void>
  log: Logger
}

/**
 * Forgets nodes gone past the forget time. Their intents (a pin, a delete) still hold, but a node
 * that joins later refuses intents whose writer has no record, so the first alive member writes
 * each again under its own name: same key and value, a newer stamp, and every node ends with the
 * same set. Run now and then: a chore the adopter missed is picked up on its next run.
 */
export async function forgetGone (c: ForgetComponents): Promise<{ forgotten: number, adopted: number }> {
  const gone = c.state.forget()
  for (const m of gone) c.log.info(`forgot ${m.record.name !== '' ? m.record.name : m.peerId} (${m.peerId}): gone too long`)
  if (firstAlive(c.state.members()) !== c.state.selfId) return { forgotten: gone.length, adopted: 0 }
  const orphans = c.intents.entries().filter(e => e.writer !== c.state.selfId && c.state.forgotten(e.writer))
  const signed: SignedIntent[] = []
  for (const e of orphans) {
    try {
      signed.push(await c.intents.write(e.body ?? { tombstone: e.key }))
    } catch (err) {
      c.log.error(`cannot take over intent ${e.key}: ${(err as Error).message}`)
    }
  }
  if (signed.length > 0) {
    await c.publishIntents(signed)
    c.log.info(`took over ${signed.length} intent(s) of forgotten nodes`)
  }
  return { forgotten: gone.length, adopted: signed.length }
}
