import type { IntentBody, IntentStore, JobProgress } from '../cluster/index.js'
import { OllamadError, errorMessage } from '../errors.js'
import { parseModelName, type StateDb } from '../store/index.js'
import type { Puller } from '../transfer/index.js'
import { sleep, type Clock, type Timer } from '../util/clock.js'
import type { Logger } from '../util/logger.js'
import type { Startable } from '../util/lifecycle.js'

export type JobState = 'pending' | 'pulling' | 'completed' | 'error' | 'cancelled'
export type JobIntent = Extract<IntentBody, { kind: 'job' }>

/** Finished jobs are kept (and reported) this long. */
export const JOB_TTL_MS = 24 * 60 * 60_000
const DB_PREFIX = 'jobprogress/'
const terminal = (s: string): boolean => s === 'completed' || s === 'error' || s === 'cancelled'

export interface JobRunnerComponents {
  selfId: string
  intents: IntentStore
  puller: Puller
  db: StateDb
  clock: Clock
  log: Logger
  /** This node's job progress changed: publish the record soon. */
  publishSoon: () => void
}

export interface JobRunner extends Startable {
  /** This node's part of every job it is a target of, for its record. */
  progress: () => JobProgress[]
}

/**
 * Runs this node's part of cluster pull jobs: each job intent that names this node is pulled
 * once (through the puller, so peers first), and its progress goes into this node's record,
 * where any node reads it. Progress is kept in the database (read back at start), so a restart
 * neither repeats a finished job nor forgets a failed one.
 */
export function createJobRunner (c: JobRunnerComponents): JobRunner {
  const progress = new Map<string, JobProgress>()
  const running = new Map<string, AbortController>()
  let stopped = false
  let timer: Timer | undefined
  let off = (): void => {}
  const save = (p: JobProgress, persist: boolean): void => {
    progress.set(p.id, p)
    c.publishSoon()
    if (persist) void c.db.put(DB_PREFIX + p.id, { ...p, completed: String(p.completed), total: String(p.total), updatedAt: String(p.updatedAt) }).catch(() => {})
  }
  const set = (id: string, state: JobState, extra: Partial<JobProgress> = {}): void => {
    const old = progress.get(id)
    save({ id, state, completed: old?.completed ?? 0n, total: old?.total ?? 0n, error: '', ...extra, updatedAt: BigInt(c.clock.now()) }, state !== 'pulling')
  }

  const run = (job: JobIntent): void => {
    const ac = new AbortController()
    running.set(job.id, ac)
    set(job.id, 'pulling')
    const layers = new Map<string, { completed: number, total: number }>()
    let last = 0
    c.puller.pull(parseModelName(job.model), {
      insecure: job.insecure,
      coordinate: { targets: job.targets },
      signal: ac.signal,
      onProgress: (p) => {
        if (p.digest === undefined || p.total === undefined) return
        layers.set(p.digest, { completed: p.completed ?? 0, total: p.total })
        // A record goes out per change; progress changes are sent at most every 500 ms.
        if (c.clock.now() - last < 500) return
        last = c.clock.now()
        let done = 0
        let total = 0
        for (const l of layers.values()) { done += l.completed; total += l.total }
        set(job.id, 'pulling', { completed: BigInt(done), total: BigInt(total) })
      }
    }).then(entry => {
      set(job.id, 'completed', { completed: BigInt(entry.size), total: BigInt(entry.size) })
      c.log.info(`job ${job.id}: ${job.model} pulled`)
    }, (e: unknown) => {
      // Only a cancelled job says so; a daemon that stops leaves it to resume at the next start.
      if (ac.signal.aborted) { if (ac.signal.reason === 'cancelled') set(job.id, 'cancelled'); return }
      set(job.id, 'error', { error: errorMessage(e).slice(0, 500) })
      c.log.error(`job ${job.id}: ${errorMessage(e)}`)
    }).finally(() => { running.delete(job.id) })
  }

  const step = (): void => {
    const now = c.clock.now()
    for (const job of c.intents.bodies('job')) {
      if (!job.targets.includes(c.selfId)) continue
      const mine = progress.get(job.id)
      if (now - job.createdAt > JOB_TTL_MS) {
        running.get(job.id)?.abort('expired')
        if (mine !== undefined) { progress.delete(job.id); void c.db.del(DB_PREFIX + job.id).catch(() => {}) }
        continue
      }
      if (job.cancelled) {
        running.get(job.id)?.abort('cancelled')
        if (mine === undefined || !terminal(mine.state)) set(job.id, 'cancelled')
        continue
      }
      if (!running.has(job.id) && (mine === undefined || !terminal(mine.state))) run(job)
    }
  }
  const tick = (): void => {
    if (stopped) return
    step()
    timer = c.clock.setTimeout(tick, 5_000)
    timer.unref?.()
  }

  return {
    start: async () => {
      for (const [k, p] of await c.db.list<JobProgress & { completed: string, total: string, updatedAt: string }>(DB_PREFIX)) {
        progress.set(k.slice(DB_PREFIX.length), { ...p, completed: BigInt(p.completed), total: BigInt(p.total), updatedAt: BigInt(p.updatedAt) })
      }
      off = c.intents.onChange(() => { if (!stopped) step() })
      tick()
    },
    progress: () => [...progress.values()],
    stop: async () => {
      stopped = true
      off()
      if (timer !== undefined) c.clock.clearTimeout(timer)
      for (const ac of running.values()) ac.abort('stopped')
    }
  }
}

/** Waits for this node's part of a job to finish; throws its error, or ABORTED. */
export async function waitForJob (jobs: JobRunner, id: string, clock: Clock, signal: AbortSignal): Promise<void> {
  for (;;) {
    const p = jobs.progress().find(j => j.id === id)
    if (p?.state === 'completed') return
    if (p?.state === 'error' || p?.state === 'cancelled') throw new OllamadError(p.state === 'error' ? 'UPSTREAM_UNAVAILABLE' : 'ABORTED', p.error !== '' ? p.error : `job ${id} ${p.state}`)
    await sleep(clock, 100, signal)
  }
}
