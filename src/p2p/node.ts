import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
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

export type P2pNode = Libp2p<{ pubsub: GossipSub, identify: unknown }>

/** A libp2p 3 node: tcp, pnet, noise, yamux, identify, gossipsub, and mdns/bootstrap discovery. */
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
    // No connection monitor. Its pings may not drop a connection (one queued behind megabytes of
    // chunk data is not a dead peer, and dropping it would fail every chunk in flight), so they only
    // measured round trips, which nothing reads: a new stream per peer a minute, a tenth of an idle
    // node's CPU in a 17-node cluster. Liveness comes from records; TCP keepalive stays on. With
    // no monitor nothing pings, so no ping service either.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
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
        // Publishes flood to every connected peer (the keeper connects every member), so no mesh is
        // kept: a mesh link only re-sends each message as a duplicate (idle CPU of 17 nodes fell
        // by about a sixth from D=2 to 1 and again from 1 to 0). A member the publisher is not
        // connected to gets the record through gossip: IHAVE to two random peers each second
        // (at 17 members gossipsub's default quarter was four, over a third of the RPCs a 16-host
        // pull sent, each to peers that had the record from its publisher already), then IWANT.
        // With every other member sending two, a member one connection short hears of a record
        // within a second or two. No IDONTWANT notices either (one per record per mesh peer).
        D: 0,
        Dlo: 0,
        Dhi: 0,
        Dout: 0,
        Dlazy: 2,
        gossipFactor: 0,
        idontwantMinDataSize: MAX_GOSSIP_MESSAGE + 1
      })
    }
  }) as unknown as P2pNode
}
