import assert from 'node:assert/strict'
import { OllamadError } from '../../../src/errors.js'
import type { Digest, Layer, PartialBlob } from '../../../src/store/index.js'
import { fetchLayers, type LayerProgress } from '../../../src/transfer/layers.js'
import { createSharedTask, joinRun, type SharedTask } from '../../../src/transfer/shared-task.js'

const MiB = 1024 * 1024
const layer = (n: number, size: number): Layer => ({ mediaType: 'application/octet-stream', digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest, size })

/** Downloads the test finishes by hand: each records when it started and whether it was stopped. */
function downloads () {
  const started: string[] = []
  const stopped: string[] = []
  const finish = new Map<string, { ok: () => void, fail: (e: Error) => void }>()
  const runs = new Map<string, SharedTask<PartialBlob, LayerProgress>>()
  const start = (l: Layer): SharedTask<PartialBlob, LayerProgress> => createSharedTask<PartialBlob, LayerProgress>(async (emit, signal) => {
    started.push(l.digest)
    emit({ completed: 0, total: l.size })
    let over = false
    return await new Promise<PartialBlob>((resolve, reject) => {
      signal.addEventListener('abort', () => { if (!over) { over = true; stopped.push(l.digest); reject(signal.reason) } }, { once: true })
      finish.set(l.digest, {
        ok: () => { over = true; emit({ completed: l.size, total: l.size }); resolve({ digest: l.digest } as unknown as PartialBlob) },
        fail: (e) => { over = true; reject(e) }
      })
    })
  }, () => 'progress', () => { runs.delete(l.digest) })
  const join = async (l: Layer, onEvent: ((p: LayerProgress) => void) | undefined, signal: AbortSignal): Promise<PartialBlob> => await joinRun(runs, l.digest, () => start(l), onEvent, signal)
  return { started, stopped, finish, join }
}

const turn = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

describe('transfer/layers', () => {
  it('starts every one-chunk layer at once, takes large ones in turn, and reports in the given order', async () => {
    const big1 = layer(1, 64 * MiB)
    const big2 = layer(2, 64 * MiB)
    const tmpl = layer(3, 1000)
    const config = layer(4, 83)
    const d = downloads()
    const staged: string[] = []
    const told: string[] = []
    const run = fetchLayers({
      layers: [big1, tmpl, big2, config],
      have: async () => false,
      join: d.join,
      progress: (l, p) => { if (p.completed === p.total) told.push(l.digest) },
      staged: p => { staged.push(p.digest) },
      signal: new AbortController().signal
    })
    await turn()
    assert.deepEqual(d.started, [tmpl.digest, config.digest, big1.digest], 'the small layers and the first large one, not the second large one')
    d.finish.get(config.digest)?.ok()
    d.finish.get(tmpl.digest)?.ok()
    await turn()
    assert.deepEqual(staged, [config.digest, tmpl.digest], 'small layers are staged as soon as they are done')
    assert.deepEqual(told, [], 'nothing is reported ahead of the first large layer')
    d.finish.get(big1.digest)?.ok()
    await turn()
    assert.deepEqual(d.started.slice(3), [big2.digest])
    d.finish.get(big2.digest)?.ok()
    await run
    assert.deepEqual(told, [big1.digest, tmpl.digest, big2.digest, config.digest])
    assert.deepEqual(staged.sort(), [big1.digest, big2.digest, tmpl.digest, config.digest].sort())
  })

  it('a small layer that fails stops the large one, and its error is what the pull gets', async () => {
    const big = layer(1, 64 * MiB)
    const config = layer(2, 83)
    const tmpl = layer(3, 500)
    const d = downloads()
    const staged: string[] = []
    const run = fetchLayers({ layers: [big, tmpl, config], have: async () => false, join: d.join, progress: () => {}, staged: p => { staged.push(p.digest) }, signal: new AbortController().signal })
    await turn()
    d.finish.get(tmpl.digest)?.ok()
    await turn()
    d.finish.get(config.digest)?.fail(new OllamadError('BLOB_NOT_FOUND', 'no one has the config'))
    await assert.rejects(run, (e: unknown) => e instanceof OllamadError && e.code === 'BLOB_NOT_FOUND')
    assert.deepEqual(d.stopped, [big.digest], 'the large download was stopped')
    assert.deepEqual(staged, [tmpl.digest], 'what was done is handed over for the caller to clean up')
  })

  it('stops every layer when the caller aborts, and settles only once each is over', async () => {
    const big = layer(1, 64 * MiB)
    const config = layer(2, 83)
    const d = downloads()
    const ac = new AbortController()
    const run = fetchLayers({ layers: [big, config], have: async () => false, join: d.join, progress: () => {}, staged: () => { assert.fail('nothing was done') }, signal: ac.signal })
    await turn()
    ac.abort(new OllamadError('ABORTED', 'the client went away'))
    await assert.rejects(run, (e: unknown) => e instanceof OllamadError && e.code === 'ABORTED')
    assert.deepEqual(d.stopped.sort(), [big.digest, config.digest].sort())
  })

  it('skips a large layer that another pull published meanwhile, and a digest listed twice', async () => {
    const big1 = layer(1, 64 * MiB)
    const big2 = layer(2, 64 * MiB)
    const d = downloads()
    const published = new Set<string>()
    const told: string[] = []
    const staged: string[] = []
    const run = fetchLayers({
      layers: [big1, big2, big1],
      have: async l => published.has(l.digest),
      join: d.join,
      progress: (l, p) => { if (p.completed === p.total) told.push(l.digest) },
      staged: p => { staged.push(p.digest) },
      signal: new AbortController().signal
    })
    await turn()
    published.add(big2.digest)
    d.finish.get(big1.digest)?.ok()
    await run
    assert.deepEqual(d.started, [big1.digest], 'the published layer was not downloaded again')
    assert.deepEqual(staged, [big1.digest])
    assert.deepEqual(told, [big1.digest, big2.digest, big1.digest])
  })

  it('starts nothing for a pull that was already aborted', async () => {
    const d = downloads()
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(fetchLayers({ layers: [layer(1, 64 * MiB), layer(2, 83)], have: async () => false, join: d.join, progress: () => {}, staged: () => {}, signal: ac.signal }),
      (e: unknown) => e instanceof OllamadError && e.code === 'ABORTED')
    assert.deepEqual(d.started, [])
  })
})
