import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startRegistry, pushModel, type RunningRegistry } from '../fixtures/registry.js'
import { startDaemon, tempDir, type RunningDaemon } from '../fixtures/daemon.js'
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js'
import { seededBytes } from '../fixtures/blob.js'

const MiB = 1024 * 1024
const CONFIG = Buffer.from('{"model_format":"gguf","model_family":"llama","architecture":"amd64","os":"linux"}\n')

/** Every file under a directory, relative to it. */
async function files (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
  return out.sort()
}

describe('a pull that does not fit the disk', function () {
  this.timeout(60_000)
  let registry: RunningRegistry
  let mount: string
  const daemons: RunningDaemon[] = []

  before(async function () {
    // Mounting a small tmpfs needs root, as CI runs; elsewhere these cases cannot be set up.
    if (process.getuid?.() !== 0) this.skip()
    registry = await startRegistry()
    await pushModel(registry.url, 'library/big', 'latest', { config: CONFIG, layers: [{ mediaType: 'application/vnd.ollama.image.model', data: seededBytes(24 * MiB, 'big') }] })
    await pushModel(registry.url, 'library/small', 'latest', { config: CONFIG, layers: [{ mediaType: 'application/vnd.ollama.image.model', data: seededBytes(6 * MiB, 'small') }] })
    await pushModel(registry.url, 'library/two', 'latest', {
      config: CONFIG,
      layers: [
        { mediaType: 'application/vnd.ollama.image.model', data: seededBytes(5 * MiB, 'two-a') },
        { mediaType: 'application/vnd.ollama.image.projector', data: seededBytes(5 * MiB, 'two-b') }
      ]
    })
    mount = await tempDir('tmpfs')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount])
  })
  afterEach(async () => {
    // Each case starts with the small disk empty again.
    for (const d of daemons.splice(0)) { await d.kill(); await rm(d.modelsDir, { recursive: true, force: true }) }
  })
  after(async () => {
    if (mount !== undefined) execFileSync('umount', [mount])
    await registry?.dispose()
  })

  let n = 0
  const start = async (args: string[] = []): Promise<RunningDaemon> => {
    const d = await startDaemon({ modelsDir: join(mount, `models-${++n}`), args: ['--insecure-registry', registry.host, ...args] })
    daemons.push(d)
    return d
  }
  const pull = async (d: RunningDaemon, repo: string): Promise<{ code: number, error?: string }> => {
    const r = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: `${registry.host}/${repo}`, stream: false }) })
    return { code: r.status, error: (await r.json() as { error?: string }).error }
  }

  it('is refused with a clear error before a byte is written, and one that fits still pulls', async () => {
    const d = await start()
    const before = await files(d.modelsDir)
    const r = await pull(d, 'library/big')
    assert.equal(r.code, 500)
    assert.match(r.error ?? '', /^not enough disk space to pull .*library\/big:latest: it needs 0\.02 GiB more, 0\.0\d GiB is free in /)
    assert.deepEqual(await files(d.modelsDir), before, 'nothing written')
    assert.equal((await pull(d, 'library/small')).code, 200)
  })

  it('keeps --min-free-disk free', async () => {
    const d = await start(['--min-free-disk', '12M'])
    const r = await pull(d, 'library/small')
    assert.equal(r.code, 500)
    assert.match(r.error ?? '', /and 0\.01 GiB is kept free \(--min-free-disk\)$/)
  })

  it('a disk filled by another writer mid-pull ends the pull with a clear error; it resumes once space is freed and leaves no stray files', async () => {
    const proxy: CountingProxy = await startCountingProxy(registry.url)
    try {
      // Slow enough that the first layer is still arriving when the disk fills.
      const args = ['--insecure-registry', proxy.host, '--max-download-rate', '2M']
      const dir = join(mount, 'models-resume')
      let d = await startDaemon({ modelsDir: dir, args })
      daemons.push(d)
      const model = `${proxy.host}/library/two`
      const res = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model }) })
      const filler = join(mount, 'filler')
      let filled = false
      let last: { status?: string, error?: string, completed?: number } = {}
      for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const line of Buffer.from(piece).toString().split('\n').filter(l => l !== '')) {
          last = JSON.parse(line) as typeof last
          if (!filled && (last.completed ?? 0) > MiB) {
            filled = true
            const free = Number(execFileSync('df', ['-B1', '--output=avail', mount]).toString().split('\n')[1])
            await writeFile(filler, Buffer.alloc(free - 64 * 1024))
          }
        }
      }
      assert.ok(filled, `the disk was filled mid-pull (last line: ${JSON.stringify(last)})`)
      assert.match(last.error ?? '', /^the disk is full: cannot (reserve|write) .*free space and pull again/)

      await rm(filler)
      const fetched = proxy.blobBytes()
      const again = await fetch(`${d.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model, stream: false }) })
      assert.equal(again.status, 200, await again.text())
      assert.ok(proxy.blobBytes() - fetched <= 5 * MiB + 1024, `the first layer was resumed, not fetched again (${proxy.blobBytes() - fetched} bytes)`)

      await d.kill()
      d = await startDaemon({ modelsDir: dir, args })
      daemons.push(d)
      const stray = (await files(dir)).filter(f => f.startsWith('.ollamad/partial/') || f.startsWith('.ollamad/tmp/') || f.startsWith('.ollamad/uploads/'))
      assert.deepEqual(stray, [])
    } finally {
      await proxy.close()
    }
  })
})
