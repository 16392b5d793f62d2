// The baselines the benchmarks hold ollamad against: nginx serving a file, and the best
// single-stream copy a user would make with standard tools, `curl | tee FILE | openssl sha256`.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from '../test/fixtures/daemon.js'

export interface Nginx { url: string, pids: () => Promise<number[]>, stop: () => Promise<void> }

async function freePort (host: string): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, host, resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise(resolve => s.close(resolve))
  return port
}

/** nginx with sendfile, one worker, serving `file` at `${url}/${basename(file)}`; `ns` runs it in a network namespace. */
export async function startNginx (file: string, host = '127.0.0.1', ns?: string): Promise<Nginx> {
  const dir = await tempDir('nginx')
  // nginx's workers drop root for an unprivileged user, which must be able to read the file.
  await chmod(dirname(file), 0o755)
  await chmod(file, 0o644)
  const port = ns === undefined ? await freePort(host) : 8080
  const conf = join(dir, 'nginx.conf')
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(t => `${t}_temp_path ${dir};`).join(' ')
  await writeFile(conf, `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; tcp_nopush on; ${temp}
  server { listen ${host}:${port}; root ${dirname(file)}; location / { try_files $uri =404; } } }
`)
  const argv = ['-c', conf, '-p', dir]
  const proc: ChildProcess = ns === undefined ? spawn('nginx', argv, { stdio: 'ignore' }) : spawn('ip', ['netns', 'exec', ns, 'nginx', ...argv], { stdio: 'ignore' })
  const url = `http://${host}:${port}`
  for (let i = 0; ; i++) {
    const ok = await promisify(execFile)(ns === undefined ? 'curl' : 'ip', [...(ns === undefined ? [] : ['netns', 'exec', ns, 'curl']), '-sfI', `${url}/${basename(file)}`]).then(() => true, () => false)
    if (ok) break
    if (i > 100) throw new Error(`nginx did not start: ${(await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')).slice(0, 2000)}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url,
    pids: async () => {
      const master = Number((await readFile(join(dir, 'nginx.pid'), 'utf8')).trim())
      const kids = (await readFile(`/proc/${master}/task/${master}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number)
      return [master, ...kids]
    },
    stop: async () => {
      proc.kill('SIGTERM')
      await new Promise(resolve => { if (proc.exitCode !== null) resolve(undefined); else proc.once('exit', resolve) })
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export interface CopyResult { secs: number, user: number, sys: number, hex: string }

/** `curl URL | tee OUT | openssl sha256`, timed, with the CPU of the three (bash's `times`). */
export async function curlTeeOpenssl (url: string, out: string, ns?: string): Promise<CopyResult> {
  const script = `set -o pipefail; curl -sf ${url} | tee ${out} | openssl sha256; times`
  const argv = ns === undefined ? ['bash', ['-c', script]] as const : ['ip', ['netns', 'exec', ns, 'bash', '-c', script]] as const
  const t = process.hrtime.bigint()
  // Async: a server may run in this process, and a blocking spawn would starve it.
  const r = await promisify(execFile)(argv[0], [...argv[1]], { encoding: 'utf8', maxBuffer: 1 << 20 })
  const secs = Number(process.hrtime.bigint() - t) / 1e9
  const hex = /([0-9a-f]{64})/.exec(r.stdout)?.[1] ?? ''
  // `times` prints the shell's own line, then its children's: "0m1.234s 0m0.567s".
  const lines = r.stdout.trim().split('\n')
  const kids = (lines[lines.length - 1] ?? '').match(/(\d+)m([\d.]+)s/g)?.map(x => { const m = /(\d+)m([\d.]+)s/.exec(x) as RegExpExecArray; return Number(m[1]) * 60 + Number(m[2]) }) ?? []
  await rm(out, { force: true })
  return { secs, user: kids[0] ?? NaN, sys: kids[1] ?? NaN, hex }
}
