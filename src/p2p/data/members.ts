import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Members } from './server.js'

const ipOf = (ma: Multiaddr): string | undefined =>
  ma.getComponents().find(p => p.name === 'ip4' || p.name === 'ip6')?.value

/** Members as a libp2p node sees them: a peer with an open connection got through pnet, so it holds the key. */
export function libp2pMembers (node: Pick<Libp2p, 'getConnections'>): Members {
  const conns = (peer: string): ReturnType<Libp2p['getConnections']> =>
    node.getConnections().filter(c => c.remotePeer.toString() === peer && c.status === 'open')
  return {
    isMember: (peer) => conns(peer).length > 0,
    isMemberAddress: (ip) => node.getConnections().some(c => c.status === 'open' && ipOf(c.remoteAddr) === ip),
    addressOf: (peer) => {
      for (const c of conns(peer)) {
        const ip = ipOf(c.remoteAddr)
        if (ip !== undefined) return ip
      }
      return undefined
    }
  }
}
