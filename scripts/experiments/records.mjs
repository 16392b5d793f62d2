// An experiment behind docs/benchmarks.md (bench:transfer, "Records larger than TLS's"):
// 1 GiB over loopback, node:tls (16 KiB records; the receiver reads with onread) against plain
// TCP carrying 1 MiB AES-128-GCM records (node:crypto, one cipher per record; the receiver reads
// with onread into the record's buffer). Prints wall time and each side's CPU.
// Usage: node scripts/experiments/records.mjs tls|bulk
import tls from 'node:tls'
import net from 'node:net'
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { fork, execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const SIZE = 1024 * 2 ** 20, REC = 2 ** 20
const mode = process.argv[2], role = process.argv[3] ?? 'recv'
const key = Buffer.alloc(16, 7)
const nonce = (i) => { const n = Buffer.alloc(12); n.writeUInt32BE(i, 8); return n }
if (role === 'send') {
  const data = randomBytes(REC)
  const srv = mode === 'tls'
    ? tls.createServer({ key: readFileSync(join(process.argv[4], 'k.pem')), cert: readFileSync(join(process.argv[4], 'c.pem')) }, go)
    : net.createServer(go)
  function go (s) {
    let i = 0
    const next = () => {
      while (i < SIZE / REC) {
        let out
        if (mode === 'tls') out = data
        else {
          const c = createCipheriv('aes-128-gcm', key, nonce(i))
          const ct = c.update(data); c.final()
          out = Buffer.concat([ct, c.getAuthTag()])
        }
        i++
        if (!s.write(out)) { s.once('drain', next); return }
      }
      s.end()
    }
    next()
  }
  srv.listen(0, '127.0.0.1', () => process.send(srv.address().port))
  process.on('message', () => { process.send(process.cpuUsage()); process.exit(0) })
} else {
  if (mode !== 'tls' && mode !== 'bulk') throw new Error('usage: records.mjs tls|bulk')
  const dir = mkdtempSync(join(tmpdir(), 'records-'))
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=x'], { stdio: 'ignore' })
  const child = fork(new URL(import.meta.url).pathname, [mode, 'send', dir])
  const port = await new Promise(r => child.once('message', r))
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage()
  let got = 0, turns = 0
  await new Promise((resolve, reject) => {
    if (mode === 'tls') {
      const buf = Buffer.allocUnsafe(REC)
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, onread: { buffer: buf, callback: (n) => { got += n; turns++ } } })
      s.on('end', resolve); s.on('error', reject)
    } else {
      const rec = Buffer.allocUnsafe(REC + 16); let off = 0, i = 0
      const s = net.connect({ host: '127.0.0.1', port, onread: { buffer: () => rec.subarray(off), callback: (n) => {
        turns++; off += n
        if (off === rec.length) {
          const d = createDecipheriv('aes-128-gcm', key, nonce(i++)); d.setAuthTag(rec.subarray(REC))
          const pt = d.update(rec.subarray(0, REC)); d.final(); got += pt.length; off = 0
        }
      } } })
      s.on('end', resolve); s.on('error', reject)
    }
  })
  const c = process.cpuUsage(c0), wall = Number(process.hrtime.bigint() - t0) / 1e9
  child.send('cpu'); const sc = await new Promise(r => child.once('message', r))
  console.log(`${mode}: ${(got / 2 ** 20).toFixed(0)} MiB in ${wall.toFixed(2)} s, ${turns} reads; receiver ${((c.user + c.system) / 1e6).toFixed(2)} CPU-s, sender ${((sc.user + sc.system) / 1e6).toFixed(2)} CPU-s (incl. start)`)
  rmSync(dir, { recursive: true, force: true })
}
