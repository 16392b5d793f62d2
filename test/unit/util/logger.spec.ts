import assert from 'node:assert/strict'
import { createComponentLogger, debugEnabled } from '../../../src/util/logger.js'

describe('util/logger', () => {
  it('names each component under ollamad, and prints its debug lines only when OLLAMAD_DEBUG names it', () => {
    const lines: string[] = []
    const logger = createComponentLogger({ debug: 'ollamad:transfer', sink: (l) => { lines.push(l) } })
    logger.forComponent('transfer').debug('shown')
    logger.forComponent('transfer:serve').debug('shown too')
    logger.forComponent('cluster').debug('hidden')
    logger.forComponent('cluster').info('always')
    assert.deepEqual(lines.map(l => l.replace(/^\S+ /, '')), ['DEBUG ollamad:transfer: shown', 'DEBUG ollamad:transfer:serve: shown too', 'INFO ollamad:cluster: always'])
  })

  it('matches names, their parts, prefix* patterns and * in a comma-separated list', () => {
    assert.equal(debugEnabled('ollamad', 'ollamad:policy'), true, 'the root name covers every component')
    assert.equal(debugEnabled('*', 'ollamad:p2p'), true)
    assert.equal(debugEnabled('ollamad:clu*', 'ollamad:cluster'), true)
    assert.equal(debugEnabled('ollamad:api, ollamad:p2p', 'ollamad:p2p'), true)
    assert.equal(debugEnabled('ollamad:transfer', 'ollamad:transferx'), false, 'a name is no prefix of a longer word')
    assert.equal(debugEnabled('', 'ollamad:api'), false)
  })
})
