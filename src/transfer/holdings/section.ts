import type { RecordSections } from '../../cluster/index.js'
import type { ChunkMapStore, ModelEntry, Store } from '../../store/index.js'
import type { Puller } from '../puller.js'
import { encodeHoldings } from './record.js'

export interface HoldingsSectionComponents {
  sections: RecordSections
  store: Pick<Store, 'list' | 'onChange'>
  puller: Pick<Puller, 'partials' | 'announced' | 'arrivals' | 'onActivity'>
  maps: Pick<ChunkMapStore, 'cid' | 'onChange'>
  /** VRAM a model needs, 0 while unknown. @default none known */
  vramEstimate?: (m: ModelEntry) => number
}

/**
 * Adds what this node holds to its record (models, and blobs whole or in part), and marks the
 * record changed whenever the catalog, a download or the chunk maps change: a download's chunks
 * alone as progress.
 */
export function addHoldingsSection (c: HoldingsSectionComponents): void {
  const vramEstimate = c.vramEstimate ?? (() => 0)
  c.sections.add('holdings', () => encodeHoldings({
    models: c.store.list(),
    partials: c.puller.partials().map(p => ({ digest: p.digest, size: p.size, bitmap: p.bitmap, announced: c.puller.announced(p.digest), arriving: c.puller.arrivals.arriving(p.digest) })),
    mapCid: c.maps.cid,
    vramEstimate
  }))
  c.store.onChange(c.sections.changed)
  // A download's progress alone may wait longer before a record goes out (see progressInterval).
  c.puller.onActivity((progress) => { if (progress) c.sections.progressed(); else c.sections.changed() })
  c.maps.onChange(c.sections.changed)
}
