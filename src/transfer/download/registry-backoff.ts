/**
 * The registry as a chunk source in a swarm download: failures rest it, doubling up to 32 s, and
 * past `retries` failures in a row of chunks no peer holds the download gives up. A chunk whose
 * holders merely rest (an air-gapped LAN with a busy holder) waits for them instead.
 */
export interface RegistryBackoff {
  /** Whether the registry may be asked now. */
  open: (now: number) => boolean
  /** When it may be asked again, if it rests. */
  restUntil: () => number
  /** A request failed; true when the download should give up. */
  failed: (orphan: boolean, now: number) => boolean
  succeeded: () => void
}

export function createRegistryBackoff (retries: number): RegistryBackoff {
  let failures = 0
  let until = 0
  return {
    open: (now) => until <= now,
    restUntil: () => until,
    failed: (orphan, now) => {
      if (orphan) failures++
      if (failures > retries) return true
      until = now + 1_000 * 2 ** Math.min(5, Math.max(0, failures - 1))
      return false
    },
    succeeded: () => { failures = 0 }
  }
}
