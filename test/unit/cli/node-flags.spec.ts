import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { DAEMON_NODE_FLAGS } from '../../../src/cli/node-flags.js'

const root = new URL('../../../../', import.meta.url)

describe('cli/node-flags', () => {
  it('the ollamad shebang and npm start run node with the daemon flags', async () => {
    const shebang = (await readFile(new URL('src/cli/main.ts', root), 'utf8')).split('\n')[0]
    assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`)
    const built = (await readFile(new URL('dist/src/cli/main.js', root), 'utf8')).split('\n')[0]
    assert.equal(built, shebang, 'the compiled bin keeps the shebang')
    const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }
    assert.equal(pkg.scripts.start, `node ${DAEMON_NODE_FLAGS.join(' ')} dist/src/cli/main.js start`)
  })
})
