import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))
/** What may sit at the top of src/ besides the concern folders. */
const TOP_FILES = ['errors.ts', 'polyfill.ts', 'version.ts']
/** A file longer than this is two files. */
const MAX_LINES = 250

/** dependency-cruiser with the repo's rules (.dependency-cruiser.cjs) over `paths`. */
async function cruise (...paths: string[]): Promise<{ code: number, out: string }> {
  const bin = join(root, 'node_modules', '.bin', 'depcruise')
  return await new Promise(resolve => {
    execFile(bin, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...paths], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr })
    })
  })
}

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await sources(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

describe('the shape of src/', function () {
  this.timeout(60_000)

  it('has no import cycle between files or folders, no folder importing daemon/, and folders reached only through their index.ts', async () => {
    const r = await cruise('src')
    assert.equal(r.code, 0, r.out)
  })

  it('the check sees an import cycle when there is one', async () => {
    const r = await cruise('test/fixtures/cycle')
    assert.notEqual(r.code, 0)
    assert.match(r.out, /no-cycles/)
  })

  it('holds only polyfill.ts, version.ts, errors.ts and folders at its top', async () => {
    const files = (await readdir(join(root, 'src'), { withFileTypes: true })).filter(e => !e.isDirectory()).map(e => e.name).sort()
    assert.deepEqual(files, TOP_FILES)
  })

  it(`has no file over ${MAX_LINES} lines`, async () => {
    const long: string[] = []
    for (const f of await sources(join(root, 'src'))) {
      const lines = (await readFile(f, 'utf8')).split('\n').length - 1
      if (lines > MAX_LINES) long.push(`${f.slice(root.length)}: ${lines}`)
    }
    assert.deepEqual(long, [])
  })
})
