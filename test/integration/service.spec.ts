import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, tempDir } from '../fixtures/daemon.js'

describe('ollamad install-service', function () {
  this.timeout(30_000)

  it('prints a unit and an environment file with --dry-run, and writes ones systemd-analyze accepts', async () => {
    const dry = await runCli(['install-service', '--dry-run', '--', '--swarm-key', '/etc/ollamad/swarm.key', '--name', 'gpu-01'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^# \/etc\/systemd\/system\/ollamad\.service\n\[Unit\]/)
    assert.match(dry.stdout, /^After=network-online\.target ollama\.service$/m)
    assert.match(dry.stdout, /^User=ollama$/m)
    assert.match(dry.stdout, /^Restart=on-failure$/m)
    assert.match(dry.stdout, /^ExecStart=\/\S+ .*\/main\.js start \$OLLAMAD_ARGS$/m)
    assert.match(dry.stdout, /^OLLAMAD_ARGS="--swarm-key \/etc\/ollamad\/swarm\.key --name gpu-01"$/m)

    const dir = await tempDir('service')
    const args = ['install-service', '--unit-dir', dir, '--flags-file', join(dir, 'ollamad.env'), '--user', 'root', '--', '--name', 'gpu-01']
    const wrote = await runCli(args)
    assert.equal(wrote.code, 0, wrote.stderr)
    assert.match(wrote.stderr, /systemctl daemon-reload && systemctl enable --now ollamad/)
    const unit = join(dir, 'ollamad.service')
    assert.match(await readFile(unit, 'utf8'), new RegExp(`^EnvironmentFile=-${join(dir, 'ollamad.env').replace(/[.]/g, '\\.')}$`, 'm'))
    assert.equal((await stat(unit)).mode & 0o777, 0o644)
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
    assert.equal(verify.status, 0, verify.stderr)
    assert.equal(verify.stderr.split('\n').filter(l => l.includes('ollamad.service')).join('\n'), '')

    const again = await runCli(args)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^Error: .*ollamad\.env exists \(it holds the flags\); use --force to replace it\n$/)
    assert.equal((await runCli([...args.slice(0, -3), '--force', '--', '--name', 'gpu-02'])).code, 0)
    assert.match(await readFile(join(dir, 'ollamad.env'), 'utf8'), /^OLLAMAD_ARGS="--name gpu-02"$/m)

    const bad = await runCli(['install-service', '--dry-run', '--', '--name', 'two words'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^Error: cannot put "two words" in the service's flags/)
  })
})
