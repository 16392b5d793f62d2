import '../../../src/polyfill.js'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import type { ServerResponse } from 'node:http'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createClusterState, createHlc, createIntentStore, type Member } from '../../../src/cluster/index.js'
import { createRateTracker, createSnapshotStream, dashboardSnapshot } from '../../../src/api/dashboard/index.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { blankRecord } from '../../fixtures/records.js'

const NAME = 'registry.ollama.ai/library/llama3:latest'
const D = new Uint8Array(32).fill(7)

describe('api/dashboard', () => {
  it('gives each node its rates from the byte totals of its last two records, and none across a restart', () => {
    const rates = createRateTracker()
    const at = (writtenAt: number, fromPeers: number, fromRegistry: number, incarnation = 1n): Member => ({
      peerId: 'p', self: false, liveness: 'alive', lastRise: 0, signed: {} as Member['signed'],
      record: blankRecord({ peerId: 'p', incarnation, writtenAt: BigInt(writtenAt), transfer: { fromPeers: BigInt(fromPeers), fromRegistry: BigInt(fromRegistry), toPeers: 0n } })
    })
    assert.deepEqual(rates(at(1000, 0, 0)), { from_peers: 0, from_registry: 0, to_peers: 0 }, 'first sight: no rate')
    assert.deepEqual(rates(at(3000, 200_000_000, 2_000_000)), { from_peers: 100_000_000, from_registry: 1_000_000, to_peers: 0 })
    assert.deepEqual(rates(at(3000, 200_000_000, 2_000_000)), { from_peers: 100_000_000, from_registry: 1_000_000, to_peers: 0 }, 'the same record: the same rate')
    assert.deepEqual(rates(at(4000, 5, 0, 2n)), { from_peers: 0, from_registry: 0, to_peers: 0 }, 'counters went back: a restart')
  })

  it('lays the matrix out by node, with partials from running jobs, pins and replica targets', async () => {
    const keys = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')]
    const ids = keys.map(k => peerIdFromPrivateKey(k).toString())
    const state = createClusterState(createFakeClock(Date.now()), { selfId: ids[0] as string })
    const names = ['gpu-b', 'gpu-a', 'gpu-c']
    for (let i = 0; i < 3; i++) {
      const r = blankRecord({
        peerId: ids[i] as string,
        name: names[i] as string,
        models: i === 0 ? [{ name: NAME, manifestDigest: D, size: 1000n, pulledAt: 1n, vramEstimate: 0n }] : [],
        jobs: i === 2 ? [{ id: 'aaaaaaaaaaaaaaa1', state: 'running', completed: 250n, total: 1000n, error: '', updatedAt: 1n }] : []
      })
      state.merge({ record: new Uint8Array(10) } as never, r)
    }
    const intents = createIntentStore({ selfId: ids[0] as string, privateKey: keys[0] as never, hlc: createHlc(Date.now) })
    await intents.write({ kind: 'pin', model: NAME, node: ids[1] as string })
    await intents.write({ kind: 'replicas', model: NAME, replicas: 2 })
    await intents.write({ kind: 'job', id: 'aaaaaaaaaaaaaaa1', model: NAME, targets: [ids[2] as string], insecure: false, createdAt: Date.now(), cancelled: false })
    await intents.write({ kind: 'job', id: 'aaaaaaaaaaaaaaa2', model: 'registry.ollama.ai/library/qwen:7b', targets: [ids[1] as string], insecure: false, createdAt: Date.now(), cancelled: false })

    const s = dashboardSnapshot({ members: state.members(), intents, selfId: ids[0] as string, graceMs: 1000, now: Date.now() }, createRateTracker())
    assert.deepEqual(s.nodes.map(n => n.name), ['gpu-a', 'gpu-b', 'gpu-c'], 'nodes by name')
    assert.deepEqual(s.models.map(m => m.name), ['llama3:latest', 'qwen:7b'], 'a model on its way has a row before anyone holds it')
    const llama = s.models[0]
    assert.deepEqual(llama?.cells, ['a', 'c', 25], 'absent, complete, and the job\'s 25% on gpu-c')
    assert.deepEqual(llama?.pinned, [0], 'pinned to gpu-a')
    assert.equal(llama?.replicas, 2)
    assert.deepEqual(s.models[1]?.cells, ['a', 'a', 'a'], 'no progress reported yet')
    assert.deepEqual(s.jobs.map(j => j.id).sort(), ['aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2'])
  })

  it('streams one snapshot on connect and one per burst of changes, and stops listening when the last client goes', () => {
    const clock = createFakeClock()
    let version = 0
    let listeners = 0
    let fire: () => void = () => {}
    const stream = createSnapshotStream({
      clock,
      snapshot: () => JSON.stringify({ version }),
      onChange: (l) => { listeners++; fire = l; return () => { listeners-- } }
    }, { minIntervalMs: 1000, keepaliveMs: 15_000 })
    const out = new PassThrough()
    let text = ''
    out.on('data', (b: Buffer) => { text += b.toString() })
    const res = Object.assign(out, { writeHead: () => res, flushHeaders: () => {} }) as unknown as ServerResponse
    const ac = new AbortController()
    const served = stream.serve(res, ac.signal)
    const events = (): string[] => [...text.matchAll(/data: (.*)\n/g)].map(m => m[1] as string)
    return (async () => {
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(events(), ['{"version":0}'])
      assert.equal(listeners, 1)
      version = 1; fire(); version = 2; fire(); version = 3; fire()
      await new Promise(resolve => setImmediate(resolve))
      clock.advance(1000)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(events(), ['{"version":0}', '{"version":1}', '{"version":3}'], 'the first change at once, the rest of the burst once, a second later')
      clock.advance(15_000)
      await new Promise(resolve => setImmediate(resolve))
      assert.match(text, /: keepalive\n\n$/)
      ac.abort()
      await served
      assert.equal(listeners, 0)
      assert.equal(stream.clients(), 0)
    })()
  })
})
