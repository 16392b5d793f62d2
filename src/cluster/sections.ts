import { OllamadError } from '../errors.js'
import type { NodeRecord } from './record.js'
import { createListeners } from '../util/listeners.js'

/** Everything in a node record but its identity and version, gathered fresh for each publish. */
export type NodeFacts = Omit<NodeRecord, 'peerId' | 'incarnation' | 'sequence' | 'writtenAt' | 'intentsDigest'>

/** One concern's part of the node record: the fields it owns, read fresh for each record. */
export type RecordSection = () => Partial<NodeFacts> | Promise<Partial<NodeFacts>>

/**
 * The node record as sections, one per concern (the node itself, its holdings, its GPUs and
 * Ollama, its policy): each concern adds its own and says when its facts changed, so the cluster
 * publishes the record without knowing what is in it.
 */
export interface RecordSections {
  /** Adds a concern's section; a field belongs to one section only. */
  add: (name: string, section: RecordSection) => void
  /** A section's facts changed: the record should go out again soon. */
  changed: () => void
  /** Only a download's progress changed (chunks landed or arriving): the record may wait longer (see progressInterval). */
  progressed: () => void
  /** `progress`: the change was progress only. */
  onChange: (listener: (progress: boolean) => void) => () => void
  /** Every section's facts, over empty ones for fields no section gives. */
  gather: () => Promise<NodeFacts>
}

/** The facts of a node that says nothing: no name, addresses, disk, GPUs, models or claims. */
export const emptyFacts = (): NodeFacts => ({
  name: '', addrs: [], apiUrl: '', version: '', diskTotal: 0n, diskFree: 0n, gpus: [], loaded: [], models: [], blobs: [], ollamaUp: false, keep: [], jobs: [], maxCache: 0n, minFreeDisk: 0n, noRoom: [], dataPort: 0
})

export function createRecordSections (): RecordSections {
  const sections = new Map<string, RecordSection>()
  const listeners = createListeners<[boolean]>()
  return {
    add: (name, section) => {
      if (sections.has(name)) throw new OllamadError('INTERNAL', `the record has a section ${name} already`)
      sections.set(name, section)
    },
    changed: () => { listeners.emit(false) },
    progressed: () => { listeners.emit(true) },
    onChange: listeners.on,
    gather: async () => {
      const parts = await Promise.all([...sections].map(async ([name, read]) => ({ name, facts: await read() })))
      const owner = new Map<string, string>()
      const facts = emptyFacts()
      for (const { name, facts: part } of parts) {
        for (const key of Object.keys(part)) {
          const other = owner.get(key)
          if (other !== undefined) throw new OllamadError('INTERNAL', `sections ${other} and ${name} both give the record's ${key}`)
          owner.set(key, name)
        }
        Object.assign(facts, part)
      }
      return facts
    }
  }
}
