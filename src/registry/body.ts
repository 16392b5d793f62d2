import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { OllamadError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import { watchdog } from '../util/watchdog.js'

/** Where a body's bytes go: the caller lends its own buffers, so bytes land where they are used. */
export interface BodyTarget {
  /** Room for the next bytes. Empty when the caller wants no more: a body that goes on ends there, as a success. */
  space: () => Uint8Array
  /** `n` bytes were put at the start of the last space. A promise (a full batch being written, a rate limit) pauses the body until it settles. */
  filled: (n: number) => Promise<void> | undefined
}

/** What moves a body's bytes: the flow pauses it while the target is busy and stops it at the end. */
export interface BodyControl {
  pause: () => void
  resume: () => void
  /** Ends the body early, dropping its connection. */
  close: () => void
}

/** Drives one body into a target; a source reports bytes put into `target.space()` with `filled`. */
export interface BodyFlow {
  /** `n` bytes landed; false when the body is paused (or finished) and the source must hold on. */
  filled: (n: number) => boolean
  /** The source has no more bytes. */
  end: () => void
  fail: (e: unknown) => void
  /** Bytes came that the target has no space for: the body ends there, as a success. */
  stop: () => void
  /** Resumes the source's held bytes after a pause: called before the source itself resumes. */
  onResume?: () => void
  done: Promise<void>
}

/**
 * The flow of one body into a target. A watchdog guards the whole body: it fails with STALLED when
 * no byte comes for `stallMs`; time the body spends paused for the target does not count. A
 * target's promise is always waited for, even after a failure, because it may be writing from a
 * buffer that its owner reuses once the body is done.
 */
export function createBodyFlow (target: BodyTarget, clock: Clock, stallMs: number, control: BodyControl): BodyFlow {
  let resolve!: () => void
  let reject!: (e: unknown) => void
  const done = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  let waiting: Promise<void> | undefined
  let ended = false
  let outcome: { ok: true } | { ok: false, e: unknown } | undefined
  // Stopped while the body is paused for the target, kicked by every byte.
  const dog = watchdog(clock, stallMs, () => { flow.fail(new OllamadError('STALLED', `no data from the registry for ${stallMs} ms`)) })

  const settle = (o: NonNullable<typeof outcome>): void => {
    if (outcome !== undefined) return
    outcome = o
    dog.stop()
    if (!o.ok || !ended) control.close()
    if (waiting === undefined) report()
  }
  const report = (): void => {
    if (outcome === undefined) return
    if (outcome.ok) resolve()
    else reject(outcome.e)
  }
  const flow: BodyFlow = {
    done,
    filled: (n) => {
      if (outcome !== undefined) return false
      dog.kick()
      let next: Promise<void> | undefined
      try { next = target.filled(n) } catch (e) { flow.fail(e); return false }
      if (next === undefined) return true
      waiting = next
      control.pause()
      dog.stop()
      next.then(() => {
        waiting = undefined
        if (outcome !== undefined) { report(); return }
        flow.onResume?.()
        if (outcome !== undefined || waiting !== undefined) return
        if (ended) { settle({ ok: true }); return }
        dog.kick()
        control.resume()
      }, (e: unknown) => {
        waiting = undefined
        if (outcome !== undefined) { report(); return }
        flow.fail(e)
      })
      return false
    },
    end: () => {
      ended = true
      if (waiting === undefined) settle({ ok: true })
    },
    fail: (e) => { settle({ ok: false, e }) },
    stop: () => { settle({ ok: true }) }
  }
  return flow
}

/** A body that reads itself straight into a target (see `direct-http.ts`). */
export interface DirectBody { readInto: (target: BodyTarget, clock: Clock, stallMs: number) => Promise<void> }

const isDirect = (res: unknown): res is DirectBody => typeof (res as Partial<DirectBody>).readInto === 'function'

/**
 * Copies pieces into a flow's target; what does not fit before a pause is held and goes first when
 * the flow resumes. `take` returns false once the body is paused or done.
 */
export function feedPieces (flow: BodyFlow, target: BodyTarget): { take: (piece: Buffer) => boolean, holding: () => boolean } {
  const held: Buffer[] = []
  const copy = (piece: Buffer): boolean => {
    let off = 0
    while (off < piece.byteLength) {
      const room = target.space()
      if (room.byteLength === 0) { flow.stop(); return false }
      const n = Math.min(room.byteLength, piece.byteLength - off)
      room.set(piece.subarray(off, off + n))
      off += n
      if (!flow.filled(n)) {
        if (off < piece.byteLength) held.push(piece.subarray(off))
        return false
      }
    }
    return true
  }
  flow.onResume = () => {
    while (held.length > 0) if (!copy(held.shift() as Buffer)) return
  }
  return {
    holding: () => held.length > 0,
    take: (piece) => {
      if (held.length > 0) { held.push(piece); return false }
      return copy(piece)
    }
  }
}

/**
 * Reads a response body into `target`. A node:http body comes in pieces of its own, copied into
 * the target from their `data` events (no promise, iterator or timer per piece); a direct body
 * reads into the target's own buffers.
 */
export async function readBodyInto (res: IncomingMessage | DirectBody, clock: Clock, stallMs: number, target: BodyTarget): Promise<void> {
  if (isDirect(res)) { await res.readInto(target, clock, stallMs); return }
  await readPiecesInto(res, clock, stallMs, target)
}

/** A body that comes in pieces of its own (node:http, or a chunked direct body), copied into the target. */
export async function readPiecesInto (res: Readable, clock: Clock, stallMs: number, target: BodyTarget): Promise<void> {
  const flow = createBodyFlow(target, clock, stallMs, {
    pause: () => { res.pause() },
    resume: () => { res.resume() },
    close: () => { res.destroy() }
  })
  const feeder = feedPieces(flow, target)
  const onData = (piece: Buffer): void => { feeder.take(piece) }
  let ended = false
  const onEnd = (): void => { ended = true; flow.end() }
  const onClose = (): void => { if (!ended) flow.fail(new OllamadError('REGISTRY_ERROR', 'the registry closed the connection inside the body')) }
  // The error listener stays after the end: a late error must not go uncaught.
  const onError = (e: Error): void => { flow.fail(e) }
  res.on('data', onData)
  res.once('end', onEnd)
  res.once('close', onClose)
  res.on('error', onError)
  try {
    await flow.done
  } finally {
    res.off('data', onData)
    res.off('end', onEnd)
    res.off('close', onClose)
  }
}
