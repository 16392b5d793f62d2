/**
 * yamux with window updates sent the way the Go and Rust implementations send them: once at
 * least half of a stream's receive window is used, instead of after every data frame.
 *
 * Why: @chainsafe/libp2p-yamux 8.0.1 answers every received data frame (at most 64 KiB) with its
 * own 12-byte window update, and each one costs the receiver a noise message, a pnet pass and a
 * socket write. Profiles of a 512 MiB transfer showed ~0.6 CPU-s of the receiver's main thread
 * in those writes. Flow control is unchanged: the remote can run dry only when the whole window
 * is used, which always sends an update; SYN/ACK and pause/resume keep the library's path.
 * The change is made per stream on the library's own objects; if a release renames the fields
 * it touches, streams fall back to the library's behaviour.
 */
import { yamux } from '@chainsafe/libp2p-yamux'
import type { StreamMuxerFactory } from '@libp2p/interface'

type YamuxInit = NonNullable<Parameters<typeof yamux>[0]>

interface WindowedStream {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate: () => void
}

/** yamux's StreamState.Established (the only state in which an update carries no flags). */
const ESTABLISHED = 3

const isWindowed = (s: unknown): s is WindowedStream => {
  const w = s as Partial<WindowedStream> | null
  return w != null && typeof w.sendWindowUpdate === 'function' && typeof w.recvWindow === 'number' &&
    typeof w.recvWindowCapacity === 'number' && typeof w.state === 'number'
}

function halfWindowUpdates (stream: unknown): void {
  if (!isWindowed(stream)) return
  const stock = stream.sendWindowUpdate.bind(stream)
  stream.sendWindowUpdate = () => {
    if (stream.state === ESTABLISHED && stream.recvWindow - stream.recvWindowCapacity < stream.recvWindow / 2) return
    stock()
  }
}

export function batchedYamux (init: YamuxInit): (components: unknown) => StreamMuxerFactory {
  const factory = yamux(init)
  return (components) => {
    const base = (factory as (c: unknown) => StreamMuxerFactory)(components)
    return {
      protocol: base.protocol,
      createStreamMuxer: (maConn) => {
        const muxer = base.createStreamMuxer(maConn) as unknown as { _newStream?: (...a: unknown[]) => unknown }
        const newStream = muxer._newStream
        if (typeof newStream === 'function') {
          muxer._newStream = (...a: unknown[]) => { const s = newStream.apply(muxer, a); halfWindowUpdates(s); return s }
        }
        return muxer as unknown as ReturnType<StreamMuxerFactory['createStreamMuxer']>
      }
    }
  }
}
