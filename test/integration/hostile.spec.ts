import '../../src/polyfill.js'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { createP2pNode, type P2pNode } from '../../src/p2p/index.js'
import { ClusterMessage, GOSSIP_TOPIC, SYNC_PROTOCOL, signRecord, signIntent, hlcFrom, intentKey, intentValue, parseIntent, NodeRecord, type IntentBody } from '../../src/cluster/index.js'
import { BLOB_PROTOCOL } from '../../src/transfer/index.js'
import { INFER_PROTOCOL, requestInfer } from '../../src/inference/index.js'
import { startOllamaStandin, type OllamaStandin } from '../fixtures/ollama-standin.js'
import { startCluster } from '../fixtures/cluster.js'
import type { RunningDaemon } from '../fixtures/daemon.js'
import { waitFor } from '../fixtures/wait-for.js'

describe('hostile peers inside the swarm', function () {
  this.timeout(60_000)
  let daemon: RunningDaemon
  let evil: P2pNode
  let evilKey: Awaited<ReturnType<typeof generateKeyPair>>

  let standin: OllamaStandin

  before(async () => {
    standin = await startOllamaStandin()
    const { nodes, key } = await startCluster(1, () => ({ ollama: standin.url }))
    daemon = nodes[0] as RunningDaemon
    evilKey = await generateKeyPair('Ed25519')
    evil = await createP2pNode({ privateKey: evilKey, swarmKey: new Uint8Array(await readFile(key)), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false })
    evil.services.pubsub.subscribe(GOSSIP_TOPIC)
    await evil.dial(multiaddr(daemon.p2pAddr))
    await waitFor(() => evil.services.pubsub.getSubscribers(GOSSIP_TOPIC).length > 0, 10_000, 'the daemon subscribed')
  })
  after(async () => {
    await evil?.stop()
    await daemon?.kill()
    await standin?.close()
  })

  const stats = async (): Promise<{ records: { dropped: number }, nodes: { alive: number } }> => await (await fetch(`${daemon.url}/api/cluster/state`)).json() as never

  it('drops garbage, forged and oversized gossip, and keeps its own record', async () => {
    const before = (await stats()).records.dropped
    await evil.services.pubsub.publish(GOSSIP_TOPIC, new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]))
    // A record for the daemon's own peer id, signed with someone else's key.
    const forged = await signRecord(await generateKeyPair('Ed25519'), NodeRecord.decode(NodeRecord.encode({
      peerId: daemon.peerId, incarnation: 9n ** 20n, sequence: 1n, name: 'evil', addrs: [], apiUrl: '', version: '', diskTotal: 0n, diskFree: 0n, gpus: [], loaded: [], models: [], blobs: [], writtenAt: 0n, ollamaUp: false, keep: [], jobs: [], maxCache: 0n, minFreeDisk: 0n
    })))
    await evil.services.pubsub.publish(GOSSIP_TOPIC, ClusterMessage.encode({ records: [forged] }))
    await evil.services.pubsub.publish(GOSSIP_TOPIC, new Uint8Array(900 * 1024).fill(7)).catch(() => {})
    await waitFor(async () => (await stats()).records.dropped >= before + 2, 10_000, 'dropped messages counted')
    const nodes = await (await fetch(`${daemon.url}/api/cluster/nodes`)).json() as { nodes: Array<{ id: string, name: string }> }
    assert.deepEqual(nodes.nodes.map(n => n.name), ['node1'])
  })

  it('answers garbage on its protocols without falling over', async () => {
    const peer = peerIdFromString(daemon.peerId)
    for (const proto of [SYNC_PROTOCOL, BLOB_PROTOCOL]) {
      for (const junk of [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]), new Uint8Array(70_000).fill(1), new Uint8Array([3, 1, 2, 3])]) {
        const s = await evil.dialProtocol(peer, proto)
        s.send(junk)
        await s.close().catch(() => {})
      }
    }
    assert.equal((await fetch(`${daemon.url}/api/tags`)).status, 200)
    assert.equal((await stats()).nodes.alive, 1)
  })

  it('carries only inference over the inference protocol: a DELETE never reaches Ollama', async () => {
    const peer = peerIdFromString(daemon.peerId)
    const dial = async (signal: AbortSignal) => await evil.dialProtocol(peer, INFER_PROTOCOL, { signal })
    const tries = [['DELETE', '/api/delete'], ['POST', '/api/pull'], ['POST', '/api/copy'], ['GET', '/api/tags'], ['POST', '/api/generate/../delete']]
    for (const [method, path] of tries) {
      const body = new TextEncoder().encode(JSON.stringify({ model: 'victim' }))
      const answer = await requestInfer(dial, { method: method as string, path: path as string, contentType: 'application/json', priority: 'normal', model: 'victim', bodyLength: body.byteLength }, body, AbortSignal.timeout(10_000))
      assert.equal(answer.status, 403, `${method} ${path}`)
      const parts: Uint8Array[] = []
      for await (const p of answer.body) parts.push(p)
      assert.match(Buffer.concat(parts).toString(), /carries only POST to \/api\/generate/)
    }
    assert.deepEqual(standin.requests.filter(r => r.path !== '/api/version' && r.path !== '/api/ps' && r.path !== '/api/tags'), [])
    await daemon.waitForLog(/refused from \S+: the inference protocol carries only POST/)
  })

  it('ignores a cluster delete written by a throwaway identity that has no node record', async () => {
    const state = async (): Promise<{ intents: { count: number }, records: { dropped: number } }> => await (await fetch(`${daemon.url}/api/cluster/state`)).json() as never
    const before = await state()
    const body: IntentBody = { kind: 'delete', model: 'registry.ollama.ai/library/llama3.2:latest', digests: ['ab'.repeat(32)] }
    const intent = { key: intentKey(body), value: intentValue(body), hlc: hlcFrom(Date.now()), writer: evil.peerId.toString() }
    parseIntent(intent.key, intent.value)
    const signed = await signIntent(evilKey, intent)
    await evil.services.pubsub.publish(GOSSIP_TOPIC, ClusterMessage.encode({ records: [], intents: [signed] }))
    await waitFor(async () => (await state()).records.dropped > before.records.dropped, 10_000, 'the intent counted as dropped')
    assert.equal((await state()).intents.count, before.intents.count)
  })
})
