import { createHash } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { OllamadError } from '../errors.js'
import type { StateDb } from '../store/index.js'
import type { Logger } from '../util/logger.js'
import type { Hlc } from './hlc.js'
import { Intent, SignedIntent, intentKey, intentValue, parseIntent, signIntent, verifyIntent, type IntentBody } from './intent-codec.js'
import { MAX_INTENTS } from './constants.js'
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
}

export interface IntentStoreComponents {
  selfId: string
  privateKey: PrivateKey
  hlc: Hlc
  db?: StateDb
  log?: Logger
}

const DB_PREFIX = 'intent/'

/** (hlc, writer) in order: the last writer wins, and equal stamps break by node id. */
export const newerThan = (a: { hlc: bigint, writer: string }, b: { hlc: bigint, writer: string }): boolean =>
  a.hlc !== b.hlc ? a.hlc > b.hlc : a.writer > b.writer

export function createIntentStore (c: IntentStoreComponents): IntentStore {
  const entries = new Map<string, IntentEntry>()
  const listeners = createListeners<[IntentEntry]>()
  let digest: Uint8Array<ArrayBuffer> | undefined

  const merge = (signed: SignedIntent, intent: Intent, persist = true): boolean => {
    const old = entries.get(intent.key)
    if (old !== undefined && !newerThan(intent, old)) return false
    if (old === undefined && entries.size >= MAX_INTENTS) throw new OllamadError('SIZE_LIMIT', `more than ${MAX_INTENTS} intents`)
    c.hlc.observe(intent.hlc)
    const e: IntentEntry = { key: intent.key, body: parseIntent(intent.key, intent.value), hlc: intent.hlc, writer: intent.writer, signed }
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
    load: async () => {
      if (c.db === undefined) return
      for (const [k, v] of await c.db.list<string>(DB_PREFIX)) {
        try {
          const signed = SignedIntent.decode(Buffer.from(v, 'base64'))
          merge(signed, await verifyIntent(signed), false)
        } catch (e) {
          c.log?.error(`dropping a stored intent ${k.slice(0, 200)}: ${(e as Error).message}`)
          await c.db.del(k).catch(() => {})
        }
      }
    }
  }
}
