import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { addNodeSection, createRecordSections } from '../../../src/cluster/index.js'
import { VERSION } from '../../../src/version.js'
import { createFakeClock } from '../../fixtures/fake-clock.js'
import { tempDir } from '../../fixtures/daemon.js'

describe('cluster/node-section', () => {
  it('puts the node\'s name, swarm addresses, API URL, version and disk in its record', async () => {
    const sections = createRecordSections()
    let url = ''
    const node = { getMultiaddrs: () => [multiaddr('/ip4/127.0.0.1/tcp/4001')] }
    addNodeSection({ sections, node, clock: createFakeClock(), apiUrl: () => url }, { name: 'gpu-01', diskPath: await tempDir('disk') })
    const before = await sections.gather()
    assert.equal(before.apiUrl, '', 'no URL until the API listens')
    url = 'http://127.0.0.1:11435'
    const facts = await sections.gather()
    assert.equal(facts.name, 'gpu-01')
    assert.deepEqual(facts.addrs, ['/ip4/127.0.0.1/tcp/4001'])
    assert.equal(facts.apiUrl, 'http://127.0.0.1:11435')
    assert.equal(facts.version, VERSION)
    assert.ok(facts.diskTotal > 0n && facts.diskFree > 0n && facts.diskFree <= facts.diskTotal, 'the disk of the models directory')
  })
})
