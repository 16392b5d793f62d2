import assert from 'node:assert/strict'
import { createRecordSections, emptyFacts } from '../../../src/cluster/index.js'

describe('cluster/sections', () => {
  it('gathers every section\'s fields over empty facts', async () => {
    const sections = createRecordSections()
    sections.add('node', () => ({ name: 'gpu-01', version: '1.2.3' }))
    sections.add('inference', async () => ({ ollamaUp: true }))
    assert.deepEqual(await sections.gather(), { ...emptyFacts(), name: 'gpu-01', version: '1.2.3', ollamaUp: true })
  })

  it('reads the sections afresh for every record', async () => {
    const sections = createRecordSections()
    let n = 0n
    sections.add('disk', () => ({ diskFree: ++n }))
    assert.equal((await sections.gather()).diskFree, 1n)
    assert.equal((await sections.gather()).diskFree, 2n)
  })

  it('refuses two sections that give the same field, and one name twice', async () => {
    const sections = createRecordSections()
    sections.add('a', () => ({ name: 'x' }))
    assert.throws(() => { sections.add('a', () => ({})) }, /section a already/)
    sections.add('b', () => ({ name: 'y' }))
    await assert.rejects(sections.gather(), /sections a and b both give the record's name/)
  })

  it('tells its listeners when a section says it changed, until they unsubscribe', () => {
    const sections = createRecordSections()
    const heard: boolean[] = []
    const off = sections.onChange((progress) => { heard.push(progress) })
    sections.changed()
    sections.progressed()
    off()
    sections.changed()
    assert.deepEqual(heard, [false, true], 'a change, then progress only')
  })
})
