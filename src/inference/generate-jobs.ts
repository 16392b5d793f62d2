import { randomBytes } from 'node:crypto'
import { errorMessage } from '../errors.js'
import type { Clock } from '../util/clock.js'

/** An async generate (`POST /api/cluster/generate`): kept in memory on the node that took it. */
export interface GenerateJob {
  id: string
  state: 'running' | 'completed' | 'error'
  model: string
  /** The node that served it, once it did. */
  node?: string
  result?: unknown
  error?: string
  createdAt: number
}

export interface GenerateJobs {
  /** Runs `work` as a job that outlives the request that made it; returns the job's id at once. */
  start: (model: string, work: (signal: AbortSignal) => Promise<{ node: string, result: unknown }>) => string
  get: (id: string) => GenerateJob | undefined
}

/** Jobs kept, newest last; the oldest go past this many. */
export const MAX_GENERATE_JOBS = 1000

export function createGenerateJobs (clock: Pick<Clock, 'now'>, max = MAX_GENERATE_JOBS): GenerateJobs {
  const jobs = new Map<string, GenerateJob>()
  return {
    start: (model, work) => {
      const id = randomBytes(8).toString('hex')
      const job: GenerateJob = { id, state: 'running', model, createdAt: clock.now() }
      jobs.set(id, job)
      if (jobs.size > max) jobs.delete(jobs.keys().next().value as string)
      void work(new AbortController().signal).then(({ node, result }) => {
        job.result = result
        job.node = node
        job.state = 'completed'
      }, (e: unknown) => {
        job.state = 'error'
        job.error = errorMessage(e)
      })
      return id
    },
    get: (id) => jobs.get(id)
  }
}
