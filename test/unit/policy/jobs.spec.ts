import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createHlc, createIntentStore, type IntentStore } from '../../../src/cluster/index.js'
import { createJobRunner, JOB_TTL_MS, type JobRunner } from '../../../src/policy/jobs.js'
import type { ModelEntry, ModelName, StateDb } from '../../../src/store/index.js'
import type { Puller, PullOptions } from '../../../src/transfer/index.js'
import { OllamadError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/util/logger.js'
import { createFakeClock, type FakeClock } from '../../fixtures/fake-clock.js'
import { memoryDb } from '../../fixtures/memory-db.js'
import { settle } from '../../fixtures/wait-for.js'

const MODEL = 'registry.ollama.ai/library/llama3:latest'

describe('policy/jobs', () => {
  let clock: FakeClock
  let intents: IntentStore
  let selfId: string
  /** Another node's peer id. */
  let other: string
  let db: StateDb
  let pulls: Array<{ name: ModelName, o?: PullOptions }>
  /** How the next pull ends: a model entry, an error, or never (until aborted). */
  let outcome: 'ok' | 'fail' | 'hang'
  const runners: JobRunner[] = []

  const puller = {
    pull: async (name: ModelName, o?: PullOptions) => {
      pulls.push({ name, o })
      if (outcome === 'fail') throw new OllamadError('REGISTRY_UNREACHABLE', 'registry down')
      if (outcome === 'hang') {
        await new Promise((_resolve, reject) => { o?.signal?.addEventListener('abort', () => { reject(new OllamadError('ABORTED', 'aborted')) }) })
      }
      return { name, size: 42 } as unknown as ModelEntry
    }
  } as unknown as Puller

  const runner = async (): Promise<JobRunner> => {
    const r = createJobRunner({ selfId, intents, puller, db, clock, log: silentLogger, publishSoon: () => {} })
    await r.start()
    runners.push(r)
    return r
  }
  const job = async (id: string, targets: string[], cancelled = false): Promise<void> => {
    await intents.write({ kind: 'job', id, model: MODEL, targets, insecure: false, createdAt: clock.now(), cancelled })
  }
  const stateOf = (r: JobRunner, id: string): string | undefined => r.progress().find(p => p.id === id)?.state

  beforeEach(async () => {
    clock = createFakeClock()
    const key = await generateKeyPair('Ed25519')
    selfId = peerIdFromPrivateKey(key).toString()
    other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    intents = createIntentStore({ selfId, privateKey: key, hlc: createHlc(() => clock.now()) })
    db = memoryDb()
    pulls = []
    outcome = 'ok'
  })
  afterEach(async () => { for (const r of runners.splice(0)) await r.stop() })

  it('pulls its part of a job once, coordinated with the other targets, and a restart does not pull it again', async () => {
    const r = await runner()
    await job('aaaaaaaa01', [selfId, other])
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa01'), 'completed')
    assert.deepEqual(pulls.map(p => p.o?.coordinate?.targets), [[selfId, other]])
    await r.stop()
    const again = await runner()
    clock.advance(5_000)
    await settle()
    assert.equal(stateOf(again, 'aaaaaaaa01'), 'completed', 'progress is read back from the database')
    assert.equal(pulls.length, 1, 'a finished job is not pulled again')
  })

  it('leaves a job that does not name this node alone', async () => {
    const r = await runner()
    await job('aaaaaaaa02', [other])
    await settle()
    assert.deepEqual(pulls, [])
    assert.equal(stateOf(r, 'aaaaaaaa02'), undefined)
  })

  it('reports a failed pull, and a cancelled job stops its pull', async () => {
    const r = await runner()
    outcome = 'fail'
    await job('aaaaaaaa03', [selfId])
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa03'), 'error')
    assert.match(r.progress().find(p => p.id === 'aaaaaaaa03')?.error ?? '', /registry down/)
    outcome = 'hang'
    await job('aaaaaaaa04', [selfId])
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa04'), 'pulling')
    await job('aaaaaaaa04', [selfId], true)
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa04'), 'cancelled')
  })

  it('forgets a job once it is older than a day, on the node\'s clock', async () => {
    const r = await runner()
    await job('aaaaaaaa05', [selfId])
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa05'), 'completed')
    clock.advance(JOB_TTL_MS - 10_000)
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa05'), 'completed', 'kept for a day')
    clock.advance(20_000)
    await settle()
    assert.equal(stateOf(r, 'aaaaaaaa05'), undefined)
    assert.deepEqual(await db.list('jobprogress/'), [], 'and from the database')
  })
})
