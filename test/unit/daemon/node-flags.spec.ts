import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { DAEMON_NODE_FLAGS } from '../../../src/daemon/node-flags.js'

const root = new URL('../../../../', import.meta.url)

describe('daemon/node-flags', () => {
  it('the ollamad shebang and npm start run node with the daemon flags', async () => {
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { bin: { ollamad: string }, scripts: Record<string, string> }
    const bin = pkg.bin.ollamad
    const source = bin.replace(/^dist\//, '').replace(/\.js$/, '.ts')
    const shebang = (await readFile(new URL(source, root), 'utf8')).split('\n')[0]
    assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`)
    const built = (await readFile(new URL(bin, root), 'utf8')).split('\n')[0]
    assert.equal(built, shebang, 'the compiled bin keeps the shebang')
    assert.equal(pkg.scripts.start, `node ${DAEMON_NODE_FLAGS.join(' ')} ${bin} start`)
  })
})
