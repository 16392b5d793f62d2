import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliToken } from '../../../src/cli/target.js'

describe('cli/target: the token the CLI sends', () => {
  it('takes the flag, then OLLAMAD_TOKEN, then the local daemon\'s token file, which never goes to another host', async () => {
    const data = await mkdtemp(join(tmpdir(), 'ollamad-target-'))
    await writeFile(join(data, 'api-token'), 'local-token-0123456789\n')
    const env = { OLLAMAD_DATA: data }
    assert.equal(await cliToken('flag-token', 'http://127.0.0.1:11435', { ...env, OLLAMAD_TOKEN: 'env-token' }), 'flag-token')
    assert.equal(await cliToken(undefined, 'http://127.0.0.1:11435', { ...env, OLLAMAD_TOKEN: 'env-token' }), 'env-token')
    assert.equal(await cliToken(undefined, 'http://127.0.0.1:11435', env), 'local-token-0123456789')
    assert.equal(await cliToken(undefined, 'http://[::1]:11435', env), 'local-token-0123456789')
    assert.equal(await cliToken(undefined, 'http://gpu-07.example:11435', env), undefined)
    assert.equal(await cliToken(undefined, 'http://10.0.0.7:11435', env), undefined)
    assert.equal(await cliToken(undefined, 'http://127.0.0.1:11435', { OLLAMAD_DATA: join(data, 'none') }), undefined)
  })
})
