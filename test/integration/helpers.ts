import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** Every file under a directory with its size, for "nothing on disk changed" checks. */
export async function tree (dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  const walk = async (d: string): Promise<void> => {
    let entries
    try { entries = await readdir(d, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out[relative(dir, p)] = (await stat(p)).size
    }
  }
  await walk(dir)
  return out
}

export const readManifest = async (modelsDir: string, host: string, ns: string, model: string, tag: string): Promise<Buffer> =>
  await readFile(join(modelsDir, 'manifests', host, ns, model, tag))

/** Posts JSON and returns status, content type and body text. */
export async function post (url: string, body: unknown, method = 'POST'): Promise<{ status: number, type: string, text: string, json: () => any }> {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) }
}

/** Reads an NDJSON response into its lines. */
export async function ndjson (url: string, body: unknown): Promise<{ status: number, lines: any[] }> {
  const r = await post(url, body)
  return { status: r.status, lines: r.text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l)) }
}

