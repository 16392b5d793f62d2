import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createClusterState, createHlc, createIntentStore, signRecord, type IntentStore, type Member } from '../../../src/cluster/index.js'
import { applySpec } from '../../../src/policy/apply.js'
import * as control from '../../../src/policy/control.js'
import { isOllamadError } from '../../../src/errors.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'

const GiB = 1024 ** 3
const NAME = 'registry.ollama.ai/library/llama3:latest'
const D = new Uint8Array(32).fill(7)

describe('policy/control and apply', () => {
  let members: Member[]
  let intents: IntentStore
  let ids: string[]
  const view = (): control.ControlView => ({ members, intents, selfId: ids[0] as string, graceMs: 60_000, now: Date.now() })
  const code = (c: string) => (e: unknown): boolean => isOllamadError(e) && e.code === c

  before(async () => {
    const keys: PrivateKey[] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    const state = createClusterState(createFakeClock(Date.now()), { selfId: ids[0] as string })
    const names = ['gpu-1', 'gpu-2', 'tiny']
    for (let i = 0; i < 3; i++) {
      const r = blankRecord({
        peerId: ids[i] as string, name: names[i] as string, diskTotal: BigInt(100 * GiB), diskFree: BigInt(i === 2 ? GiB / 2 : 50 * GiB),
        models: i === 0 ? [{ name: NAME, manifestDigest: D, size: BigInt(GiB), pulledAt: 1n, vramEstimate: 0n }] : []
      })
      state.merge(await signRecord(keys[i] as PrivateKey, r), r)
    }
    members = state.members()
    intents = createIntentStore({ selfId: ids[0] as string, privateKey: keys[0] as PrivateKey, hlc: createHlc(Date.now) })
  })

  it('checks every command against the cluster before anything is written', () => {
    assert.throws(() => control.replicate(view(), 'llama3', 0), code('INVALID_REQUEST'))
    assert.throws(() => control.replicate(view(), 'nowhere/none', 2), code('MODEL_NOT_FOUND'))
    assert.throws(() => control.replicate(view(), '../etc', 2), code('INVALID_NAME'))
    assert.throws(() => control.pin(view(), 'llama3', 'nobody', true), code('NODE_NOT_FOUND'))
    assert.throws(() => control.migrate(view(), 'llama3', 'gpu-1', 'tiny'), code('NO_ROOM'))
    assert.throws(() => control.migrate(view(), 'llama3', 'gpu-2', 'gpu-1'), code('MODEL_NOT_FOUND'))
    assert.deepEqual(control.replicate(view(), 'llama3', 'all'), [{ kind: 'replicas', model: NAME, replicas: 'all' }])
    assert.deepEqual(control.migrate(view(), 'llama3', 'gpu-1', 'gpu-2'), [{ kind: 'migrate', model: NAME, from: ids[0], to: ids[1] }])
    assert.equal(intents.entries().length, 0, 'nothing written by checking')
  })

  it('apply writes the differences once; applying the same file again changes nothing', async () => {
    const spec = { models: { llama3: { replicas: 2, pins: ['gpu-2'] } } }
    const first = applySpec(view(), spec)
    assert.deepEqual(first.changes.map(c => c.key).sort(), [`pin/${NAME}/${ids[1] as string}`, `replicas/${NAME}`])
    for (const w of first.writes) await intents.write(w)
    assert.deepEqual(applySpec(view(), spec), { changes: [], writes: [] })
    // Dropping the pin from the file unpins it.
    const unpin = applySpec(view(), { models: { llama3: { replicas: 2, pins: [] } } })
    assert.deepEqual(unpin.changes.map(c => [c.key, c.to]), [[`pin/${NAME}/${ids[1] as string}`, null]])
    assert.throws(() => applySpec(view(), { models: { llama3: { replicas: -1 } } }), /replicas of llama3/)
    assert.throws(() => applySpec(view(), { nodes: {} }), /unknown section/)
  })

  it('apply sets cache limits for every node or one node, once', async () => {
    const spec = { limits: { '*': { max_cache: '500G' }, 'gpu-2': { min_free_disk: '20G', max_cache: 1000 } } }
    const first = applySpec(view(), spec)
    assert.deepEqual(first.writes, [
      { kind: 'limits', node: '*', maxCache: 500e9, minFreeDisk: 0 },
      { kind: 'limits', node: ids[1], maxCache: 1000, minFreeDisk: 20e9 }
    ])
    for (const w of first.writes) await intents.write(w)
    assert.deepEqual(applySpec(view(), spec).changes, [])
    assert.throws(() => applySpec(view(), { limits: { '*': { max_cache: 'huge' } } }), /max_cache of \* must be a size/)
    assert.throws(() => applySpec(view(), { limits: { '*': { max_cache: -5 } } }), /invalid intent: limits are whole numbers/)
    assert.throws(() => applySpec(view(), { limits: { nobody: { max_cache: '1G' } } }), /no node named/)
  })
})
