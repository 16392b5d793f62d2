import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { mdns } from '@libp2p/mdns'
import { bootstrap } from '@libp2p/bootstrap'
import { boundedPreSharedKey } from './pnet.js'
import { batchedYamux } from './yamux-window.js'
import type { PrivateKey } from '@libp2p/interface'
import { MAX_GOSSIP_MESSAGE } from './constants.js'

export interface P2pInit {
  privateKey: PrivateKey
  /** The pre-shared swarm key (pnet v1 file bytes); undefined runs an open swarm (noise only). */
  swarmKey: Uint8Array | undefined
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** Listen at once; with false the node waits for `start()`. @default true */
  start?: boolean
}

export type P2pNode = Libp2p<{ pubsub: GossipSub, identify: unknown, ping: unknown }>

/** A libp2p 3 node: tcp, pnet, noise, yamux, identify, ping, gossipsub, and mdns/bootstrap discovery. */
export async function createP2pNode (init: P2pInit): Promise<P2pNode> {
  const discovery = []
  if (init.mdns) discovery.push(mdns({ serviceTag: 'ollamad.local' }))
  if (init.bootstrap.length > 0) discovery.push(bootstrap({ list: init.bootstrap }))
  return await createLibp2p({
    start: init.start ?? true,
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionProtector: init.swarmKey !== undefined ? boundedPreSharedKey({ psk: init.swarmKey }) : undefined,
    connectionEncrypters: [noise()],
    streamMuxers: [batchedYamux({ streamOptions: { initialStreamWindowSize: 1024 * 1024, maxStreamWindowSize: 4 * 1024 * 1024 } })],
    peerDiscovery: discovery,
    // A ping queued behind megabytes of chunk data is not a dead peer; dropping the connection
    // would fail every chunk in flight on it. The pings then only measure round trips, so one a
    // minute will do: at the default 10 s, a node in a 16-node cluster spent a tenth of its idle
    // CPU on them (a new stream each).
    connectionMonitor: { abortConnectionOnPingFailure: false, pingInterval: 60_000 },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        maxInboundDataLength: MAX_GOSSIP_MESSAGE,
        // The cluster is small and every record matters to every node: send to all, not a mesh subset.
        floodPublish: true,
        // The shared key already closes the swarm; the colocation penalty would graylist every
        // peer once ~15 nodes share an address (NAT, containers, loopback tests).
        scoreParams: { IPColocationFactorWeight: 0 },
        // Every record is signed by its owner already; a second gossipsub signature per message
        // was the largest share of an idle node's CPU. Message ids are then sha256 of the data.
        globalSignaturePolicy: 'StrictNoSign',
        // Publishes flood to every connected peer (the keeper connects every member), so the mesh
        // only repairs gaps: keep it as small as it goes, since each mesh link re-sends every
        // message as a duplicate (D=1 instead of 2 cut idle CPU by a sixth at 16 nodes), and send
        // no IDONTWANT notices (one per record per mesh peer).
        D: 1,
        Dlo: 1,
        Dhi: 2,
        Dout: 0,
        Dlazy: 2,
        idontwantMinDataSize: MAX_GOSSIP_MESSAGE + 1
      })
    }
  }) as unknown as P2pNode
}
