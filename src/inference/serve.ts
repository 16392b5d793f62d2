import type { IncomingMessage } from 'node:http'
import { OllamadError } from '../errors.js'
import { nameKey, parseModelName, type Store } from '../store/index.js'
import type { Puller } from '../transfer/index.js'
import type { Logger } from '../util/logger.js'
import type { InferAnswer, LocalServe } from './infer-protocol.js'
import type { OllamaUpstream } from './upstream.js'
import { parsePriority, type InferQueue } from './queue.js'
import { FORWARDED_HEADER } from './constants.js'

export interface LocalServeComponents {
  upstream: OllamaUpstream
  store: Store
  puller: Puller
  queue: InferQueue
  name: string
  log: Logger
  /** An answer ended: what Ollama has loaded may have changed. */
  onServed?: () => void
  /** Brings a model this node lacks (as a cluster job, so the fetch shows with its progress); the puller when absent. */
  fetch?: (model: string, signal: AbortSignal) => Promise<void>
}

/** Seconds a client is told to wait after a 503 from a full queue. */
const RETRY_AFTER_S = 2

/**
 * Runs one inference request on this node: fetches the model through the swarm first when this
 * node does not hold it (the answer simply starts later, as with Ollama loading a model), waits
 * for a slot in the queue, then streams Ollama's answer. The slot is held until the answer ends.
 */
export function createLocalServe (c: LocalServeComponents): LocalServe {
  return async (head, body, signal, o = {}): Promise<InferAnswer> => {
    let priority
    try { priority = parsePriority(head.priority) } catch { priority = 'normal' as const }
    const key = nameKey(parseModelName(head.model))
    if (o.fetch !== false && !c.store.list().some(e => nameKey(e.name) === key)) {
      c.log.info(`fetching ${head.model} for an inference request`)
      if (c.fetch !== undefined) await c.fetch(head.model, signal)
      else await c.puller.pull(parseModelName(head.model), { signal })
    }
    let release: () => void
    try {
      release = await c.queue.acquire(key, priority, signal)
    } catch (e) {
      if (e instanceof OllamadError && e.code === 'QUEUE_FULL') {
        return { status: 503, contentType: 'application/json', node: c.name, retryAfter: RETRY_AFTER_S, body: [new TextEncoder().encode(JSON.stringify({ error: `server busy: ${e.message}` }))] }
      }
      throw e
    }
    let res: IncomingMessage
    try {
      res = await c.upstream.send(head.method, head.path, { 'content-type': head.contentType, ...(head.via !== undefined && head.via !== '' ? { [FORWARDED_HEADER]: head.via } : {}) }, body, signal)
    } catch (e) {
      release()
      throw e
    }
    // The slot is held until Ollama's answer has ended (or broken off).
    let released = false
    const done = (): void => { if (!released) { released = true; release(); c.onServed?.() } }
    res.once('end', done)
    res.once('close', done)
    return { status: res.statusCode ?? 502, contentType: String(res.headers['content-type'] ?? 'application/json'), node: c.name, body: res as AsyncIterable<Buffer>, readable: res }
  }
}
