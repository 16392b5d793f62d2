import { OllamadError } from '../errors.js'

export type Priority = 'high' | 'normal' | 'low'
const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 }

export function parsePriority (v: unknown): Priority {
  if (v === undefined || v === null || v === '') return 'normal'
  if (v === 'high' || v === 'normal' || v === 'low') return v
  throw new OllamadError('INVALID_REQUEST', 'X-Ollamad-Priority must be high, normal or low')
}

export interface QueueInit {
  /** Requests sent to Ollama at once. @default 4 */
  concurrency?: number
  /** Requests that may wait; more are refused (503). @default 64 */
  maxWaiting?: number
}

/** A slot in front of the node's Ollama; release it when the answer has been streamed. */
export interface InferQueue {
  acquire: (model: string, priority: Priority, signal: AbortSignal) => Promise<() => void>
  stats: () => { running: number, waiting: number }
}

interface Waiter { model: string, rank: number, seq: number, grant: () => void, fail: (e: unknown) => void }

/**
 * Priority first; among equals, requests for the model that ran last go first, so Ollama does
 * not swap models back and forth; then arrival order.
 */
export function createInferQueue (init: QueueInit = {}): InferQueue {
  const concurrency = init.concurrency ?? 4
  const maxWaiting = init.maxWaiting ?? 64
  const waiting: Waiter[] = []
  let running = 0
  let seq = 0
  let lastModel = ''

  const next = (): void => {
    while (running < concurrency && waiting.length > 0) {
      waiting.sort((a, b) => a.rank - b.rank || Number(b.model === lastModel) - Number(a.model === lastModel) || a.seq - b.seq)
      const w = waiting.shift() as Waiter
      running++
      lastModel = w.model
      w.grant()
    }
  }

  return {
    stats: () => ({ running, waiting: waiting.length }),
    acquire: async (model, priority, signal) => {
      if (running >= concurrency && waiting.length >= maxWaiting) throw new OllamadError('QUEUE_FULL', `the queue is full (${waiting.length} waiting)`)
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = {
          model,
          rank: RANK[priority],
          seq: seq++,
          grant: () => { signal.removeEventListener('abort', onAbort); resolve() },
          fail: reject
        }
        const onAbort = (): void => {
          const i = waiting.indexOf(w)
          if (i >= 0) waiting.splice(i, 1)
          reject(new OllamadError('ABORTED', 'request aborted while queued'))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        waiting.push(w)
        next()
      })
      let released = false
      return () => {
        if (released) return
        released = true
        running--
        next()
      }
    }
  }
}
