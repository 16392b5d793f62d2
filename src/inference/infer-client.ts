import type { Stream } from '@libp2p/interface'
import { createReachability, type DataPlane } from '../p2p/index.js'
import { isOllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import type { InferAnswer, InferHead } from './infer-protocol.js'
import { encodeInferRequest, sendInferRequest } from './infer-data.js'
import { requestInfer } from './infer-stream.js'

export interface InferClientComponents {
  /** Opens a libp2p stream of the inference protocol to `peer`. */
  dial: (peer: string, signal: AbortSignal) => Promise<Stream>
  /** The data plane, when this node runs one: a peer that takes requests on its data port gets them there. */
  data?: Pick<DataPlane, 'direct' | 'frames'>
  clock: Clock
}

/** Sends inference requests to other nodes. */
export interface InferClient {
  /** Resolves once the answer's head arrives (a failure before it is the caller's cue to try another node). */
  request: (peer: string, head: InferHead, body: Uint8Array, signal: AbortSignal) => Promise<InferAnswer>
}

/**
 * A request goes on a data connection to a peer that takes requests on its data port (TLS in
 * native code, one connection reused request after request: a hop costs a fraction of a libp2p
 * stream's layers), else, or when its body is large, on a libp2p stream.
 */
export function createInferClient (c: InferClientComponents): InferClient {
  const reach = createReachability(c.clock)
  return {
    request: async (peer, head, body, signal) => {
      const request = c.data !== undefined && c.data.direct(peer) && reach.tryData(peer) ? encodeInferRequest(head, body) : undefined
      if (c.data !== undefined && request !== undefined) {
        try {
          const answer = await sendInferRequest(c.data, peer, request, signal)
          reach.reachable(peer)
          return answer
        } catch (e) {
          // A firewall, or an older node that takes no inference on its data port.
          if (!isOllamadError(e, 'DATA_UNREACHABLE')) throw e
          reach.unreachable(peer)
        }
      }
      return await requestInfer(async (s) => await c.dial(peer, s), head, body, signal)
    }
  }
}
