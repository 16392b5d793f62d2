import { OllamadError } from '../errors.js'

/**
 * A hybrid logical clock: wall-clock ms in the high bits, a counter in the low 16, so stamps
 * follow real time when clocks agree and still order causally when they do not. A remote stamp
 * further ahead than `maxDriftMs` is refused, so one fast clock cannot win every write.
 */
export interface Hlc {
  /** A stamp for a local event, above every stamp seen so far. */
  now: () => bigint
  /** Takes in a remote stamp; throws CLOCK_DRIFT when it is too far ahead of local time. */
  observe: (remote: bigint) => void
  /** The wall clock it follows, in ms (for what else must agree with its stamps: expiry, rates). */
  wall: () => number
}

const LOGICAL_BITS = 16n
const LOGICAL_MASK = (1n << LOGICAL_BITS) - 1n
export const DEFAULT_MAX_DRIFT_MS = 30_000

export const hlcPhysical = (t: bigint): number => Number(t >> LOGICAL_BITS)
export const hlcFrom = (ms: number, logical = 0): bigint => (BigInt(Math.floor(ms)) << LOGICAL_BITS) | BigInt(logical)

export function createHlc (wall: () => number, maxDriftMs = DEFAULT_MAX_DRIFT_MS): Hlc {
  let last = 0n
  const tooFar = (t: bigint): boolean => hlcPhysical(t) > wall() + maxDriftMs
  return {
    wall,
    now: () => {
      const p = hlcFrom(wall())
      // The counter overflowing into the ms bits just moves the stamp 1 ms ahead: still monotonic.
      last = p > last ? p : last + 1n
      return last
    },
    observe: (remote) => {
      if (tooFar(remote)) throw new OllamadError('CLOCK_DRIFT', `a stamp ${hlcPhysical(remote) - wall()} ms ahead of this node's clock`)
      if (remote > last) last = remote
    }
  }
}

export { LOGICAL_MASK }
