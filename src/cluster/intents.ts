import { createHash } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { OllamadError } from '../errors.js'
import type { StateDb } from '../store/index.js'
import type { Logger } from '../util/logger.js'
import type { Hlc } from './hlc.js'
import { Intent, SignedIntent, intentKey, intentValue, parseIntent, signIntent, verifyIntent, type IntentBody } from './intent-codec.js'
import { INTENT_BURST, INTENT_RATE_PER_SEC, JOB_INTENT_TTL_MS, MAX_INTENTS, MAX_INTENTS_PER_WRITER, TOMBSTONE_TTL_MS } from './constants.js'
import { hlcPhysical } from './hlc.js'
import { createListeners } from '../util/listeners.js'

export interface IntentEntry {
  key: string
  /** undefined for a tombstone. */
  body?: IntentBody
  hlc: bigint
  writer: string
  signed: SignedIntent
}

export interface IntentStore {
  /** Merges a verified intent: the higher (hlc, writer) wins. True when it replaced what we held. */
  merge: (signed: SignedIntent, intent: Intent) => boolean
  /** Writes an intent of this node (a body, or a tombstone for `key`), and returns it signed for gossip. */
  write: (what: IntentBody | { tombstone: string }) => Promise<SignedIntent>
  get: (key: string) => IntentEntry | undefined
  /** Live (non-tombstone) intents, optionally of one kind. */
  bodies: <K extends IntentBody['kind']>(kind?: K) => Array<Extract<IntentBody, { kind: K }>>
  entries: () => IntentEntry[]
  /** sha256 over every (key, hlc, writer) held, in key order: equal sets give equal digests. Do not modify it. */
  digest: () => Uint8Array<ArrayBuffer>
  /** Whether a peer's digest says it holds the same set (an empty one, from an older node, says nothing). */
  matches: (digest: Uint8Array) => boolean
  onChange: (l: (e: IntentEntry) => void) => () => void
  /** Reads the intents kept in the database (verified again). */
  load: () => Promise<void>
  /** Drops expired jobs and old tombstones (here and in the database); returns how many. */
  collect: () => number
}

export interface IntentStoreComponents {
  selfId: string
  privateKey: PrivateKey
  hlc: Hlc
  db?: StateDb
  log?: Logger
  /** Whether a peer is a member (has a signed node record). Intents of others are refused. */
  isMember?: (peerId: string) => boolean
}

const DB_PREFIX = 'intent/'

/** (hlc, writer) in order: the last writer wins, and equal stamps break by node id. */
export const newerThan = (a: { hlc: bigint, writer: string }, b: { hlc: bigint, writer: string }): boolean =>
  a.hlc !== b.hlc ? a.hlc > b.hlc : a.writer > b.writer

export function createIntentStore (c: IntentStoreComponents): IntentStore {
  const entries = new Map<string, IntentEntry>()
  const listeners = createListeners<[IntentEntry]>()
  let digest: Uint8Array<ArrayBuffer> | undefined

  const wall = c.hlc.wall
  const perWriter = new Map<string, number>()
  const buckets = new Map<string, { tokens: number, at: number }>()
  const count = (writer: string, by: number): void => {
    const n = (perWriter.get(writer) ?? 0) + by
    if (n > 0) perWriter.set(writer, n); else perWriter.delete(writer)
  }
  /** A token bucket per writer: a burst (an apply of many models) passes, a flood does not. */
  const takeToken = (writer: string): boolean => {
    const now = wall()
    const b = buckets.get(writer) ?? { tokens: INTENT_BURST, at: now }
    b.tokens = Math.min(INTENT_BURST, b.tokens + (now - b.at) / 1000 * INTENT_RATE_PER_SEC)
    b.at = now
    buckets.set(writer, b)
    if (b.tokens < 1) return false
    b.tokens--
    return true
  }
  const expired = (e: { body?: IntentBody, hlc: bigint }): boolean => e.body === undefined
    ? hlcPhysical(e.hlc) < wall() - TOMBSTONE_TTL_MS
    : e.body.kind === 'job' && e.body.createdAt < wall() - JOB_INTENT_TTL_MS

  /** From a peer, an intent is checked against membership, caps and the rate; from the database it was checked when it came. */
  const merge = (signed: SignedIntent, intent: Intent, from: 'peer' | 'disk' = 'peer'): boolean => {
    const persist = from === 'peer'
    const own = intent.writer === c.selfId || from === 'disk'
    if (!own && c.isMember !== undefined && !c.isMember(intent.writer)) {
      throw new OllamadError('FORBIDDEN', `intent ${intent.key.slice(0, 200)} from ${intent.writer}, which has no node record here`)
    }
    const body = parseIntent(intent.key, intent.value)
    // Expired ones are neither kept nor passed on, so collection converges on every node.
    if (expired({ body, hlc: intent.hlc })) return false
    const old = entries.get(intent.key)
    if (old !== undefined && !newerThan(intent, old)) return false
    if (!own) {
      if (old === undefined && entries.size >= MAX_INTENTS) throw new OllamadError('SIZE_LIMIT', `more than ${MAX_INTENTS} intents`)
      if ((perWriter.get(intent.writer) ?? 0) >= MAX_INTENTS_PER_WRITER && old?.writer !== intent.writer) throw new OllamadError('SIZE_LIMIT', `${intent.writer} holds ${MAX_INTENTS_PER_WRITER} intents here already`)
      if (!takeToken(intent.writer)) throw new OllamadError('SIZE_LIMIT', `${intent.writer} writes intents faster than ${INTENT_RATE_PER_SEC} a second`)
    }
    c.hlc.observe(intent.hlc)
    if (old !== undefined) count(old.writer, -1)
    count(intent.writer, 1)
    const e: IntentEntry = { key: intent.key, body, hlc: intent.hlc, writer: intent.writer, signed }
    entries.set(intent.key, e)
    digest = undefined
    if (persist && c.db !== undefined) {
      const raw = SignedIntent.encode(signed)
      void c.db.put(DB_PREFIX + intent.key, Buffer.from(raw).toString('base64')).catch((err: Error) => { c.log?.error(`cannot keep intent ${intent.key}: ${err.message}`) })
    }
    listeners.emit(e)
    return true
  }

  const ownDigest = (): Uint8Array<ArrayBuffer> => {
    if (digest === undefined) {
      const h = createHash('sha256')
      for (const k of [...entries.keys()].sort()) {
        const e = entries.get(k) as IntentEntry
        h.update(`${k}\0${e.hlc}\0${e.writer}\n`)
      }
      digest = new Uint8Array(h.digest())
    }
    return digest
  }

  return {
    merge: (signed, intent) => merge(signed, intent),
    write: async (what) => {
      const key = 'tombstone' in what ? what.tombstone : intentKey(what)
      const value = 'tombstone' in what ? '' : intentValue(what)
      parseIntent(key, value)
      const intent: Intent = { key, value, hlc: c.hlc.now(), writer: c.selfId }
      const signed = await signIntent(c.privateKey, intent)
      merge(signed, intent)
      return signed
    },
    get: (key) => entries.get(key),
    bodies: <K extends IntentBody['kind']>(kind?: K) => [...entries.values()]
      .map(e => e.body)
      .filter((b): b is Extract<IntentBody, { kind: K }> => b !== undefined && (kind === undefined || b.kind === kind)),
    entries: () => [...entries.values()],
    digest: ownDigest,
    matches: (d) => d.byteLength > 0 && Buffer.compare(d, ownDigest()) === 0,
    onChange: listeners.on,
    collect: () => {
      let n = 0
      for (const [k, e] of entries) {
        if (!expired(e)) continue
        entries.delete(k)
        count(e.writer, -1)
        n++
        void c.db?.del(DB_PREFIX + k).catch(() => {})
      }
      if (n > 0) digest = undefined
      return n
    },
    load: async () => {
      if (c.db === undefined) return
      for (const [k, v] of await c.db.list<string>(DB_PREFIX)) {
        try {
          const signed = SignedIntent.decode(Buffer.from(v, 'base64'))
          merge(signed, await verifyIntent(signed), 'disk')
        } catch (e) {
          c.log?.error(`dropping a stored intent ${k.slice(0, 200)}: ${(e as Error).message}`)
          await c.db.del(k).catch(() => {})
        }
      }
    }
  }
}
