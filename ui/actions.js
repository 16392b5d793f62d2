import { h } from 'preact'
import { useState } from 'preact/hooks'
import htm from 'htm'
import { size } from './format.js'

const html = htm.bind(h)
const TOKEN_KEY = 'ollamad-token'

export const savedToken = () => sessionStorage.getItem(TOKEN_KEY) ?? ''
export const saveToken = (t) => { if (t === '') sessionStorage.removeItem(TOKEN_KEY); else sessionStorage.setItem(TOKEN_KEY, t) }

/** Calls a cluster route as the CLI does, with the token when one is set; errors come back as Ollama's {"error"}. */
export async function call (method, path, body) {
  const headers = { 'Content-Type': 'application/json' }
  const token = savedToken()
  if (token !== '') headers.Authorization = `Bearer ${token}`
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let data = {}
  try { data = text === '' ? {} : JSON.parse(text) } catch { data = { error: text } }
  if (res.status === 401) {
    throw new Error(token === ''
      ? 'This action needs the cluster token. Paste it in the token field above (run `ollamad token` on the node; it prints the api-token from its data dir).'
      : `The token was refused: ${data.error ?? 'unauthorized'}. Check it against the node's api-token file.`)
  }
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`)
  return data
}

const nodesField = (text) => {
  const names = text.split(',').map(s => s.trim()).filter(s => s !== '')
  return names.length === 0 ? 'all' : names
}

/** One small form: fields, a button, and the answer or error under it. */
function Form ({ id, title, fields, button, run, danger }) {
  const [values, setValues] = useState({})
  const [status, setStatus] = useState(undefined)
  const submit = async (e) => {
    e.preventDefault()
    setStatus({ busy: true })
    try {
      const msg = await run(values)
      setStatus({ ok: msg ?? 'done' })
    } catch (err) {
      setStatus({ error: err.message })
    }
  }
  return html`<form class="action" id=${id} onSubmit=${submit}>
    <h3>${title}</h3>
    ${fields.map(f => html`<label>${f.label}
      <input name=${f.name} placeholder=${f.placeholder ?? ''} required=${f.required !== false} value=${values[f.name] ?? ''}
        onInput=${e => setValues({ ...values, [f.name]: e.currentTarget.value })} /></label>`)}
    <button type="submit" class=${danger ? 'danger' : ''} disabled=${status?.busy === true}>${button}</button>
    ${status?.ok !== undefined ? html`<p class="ok" role="status">${status.ok}</p>` : ''}
    ${status?.error !== undefined ? html`<p class="error" role="alert">${status.error}</p>` : ''}
  </form>`
}

/** Rebalance shows its dry run first; Apply writes exactly what was shown, checked again by the node. */
function Rebalance () {
  const [moves, setMoves] = useState(undefined)
  const [status, setStatus] = useState(undefined)
  const run = async (dry) => {
    setStatus(undefined)
    try {
      const r = await call('POST', '/api/cluster/rebalance', { dry_run: dry })
      if (dry) setMoves(r.moves)
      else { setMoves(undefined); setStatus({ ok: `applied: ${r.moves.length} move(s)` }) }
    } catch (err) { setStatus({ error: err.message }) }
  }
  return html`<div class="action" id="rebalance">
    <h3>Rebalance</h3>
    <button type="button" onClick=${() => run(true)}>Show the plan</button>
    ${moves !== undefined ? html`<div class="moves">
      ${moves.length === 0 ? html`<p>Nothing to move: the spread is even.</p>` : html`<ul>${moves.map(m => html`<li>${m.model}: ${m.from ?? '–'} → ${m.to ?? '–'} (${size(m.bytes)})</li>`)}</ul>`}
      ${moves.length > 0 ? html`<button type="button" class="danger" onClick=${() => run(false)}>Apply ${moves.length} move(s)</button>` : ''}
    </div>` : ''}
    ${status?.ok !== undefined ? html`<p class="ok" role="status">${status.ok}</p>` : ''}
    ${status?.error !== undefined ? html`<p class="error" role="alert">${status.error}</p>` : ''}
  </div>`
}

export function Actions () {
  return html`<section aria-labelledby="actions-title">
    <h2 id="actions-title">Actions</h2>
    <div class="actions">
      <${Form} id="pull" title="Pull" button="Pull" fields=${[{ name: 'model', label: 'model', placeholder: 'llama3.2' }, { name: 'nodes', label: 'nodes', placeholder: 'all, or names: gpu-01, gpu-02', required: false }]}
        run=${async v => { const r = await call('POST', '/api/cluster/pull', { model: v.model, nodes: nodesField(v.nodes ?? '') }); return r.existing ? `already running as job ${r.id}` : `job ${r.id} started` }} />
      <${Form} id="replicate" title="Replicate" button="Set replicas" fields=${[{ name: 'model', label: 'model' }, { name: 'replicas', label: 'replicas', placeholder: '2, or all' }]}
        run=${async v => { await call('POST', '/api/cluster/replicate', { model: v.model, replicas: v.replicas === 'all' ? 'all' : Number(v.replicas) }); return `${v.model}: ${v.replicas} replica(s)` }} />
      <${Form} id="pin" title="Pin" button="Pin" fields=${[{ name: 'model', label: 'model' }, { name: 'node', label: 'node' }]}
        run=${async v => { await call('POST', '/api/cluster/pin', v); return `${v.model} pinned to ${v.node}` }} />
      <${Form} id="unpin" title="Unpin" button="Unpin" fields=${[{ name: 'model', label: 'model' }, { name: 'node', label: 'node' }]}
        run=${async v => { await call('POST', '/api/cluster/unpin', v); return `${v.model} unpinned from ${v.node}` }} />
      <${Form} id="migrate" title="Migrate" button="Migrate" fields=${[{ name: 'model', label: 'model' }, { name: 'from', label: 'from' }, { name: 'to', label: 'to' }]}
        run=${async v => { await call('POST', '/api/cluster/migrate', v); return `${v.model}: ${v.from} → ${v.to}` }} />
      <${Rebalance} />
      <${Form} id="delete" title="Delete from the cluster" button="Delete everywhere" danger=${true} fields=${[{ name: 'model', label: 'model' }]}
        run=${async v => {
          if (!confirm(`Delete ${v.model} from every node?`)) throw new Error('not deleted')
          await call('POST', '/api/cluster/delete', { model: v.model })
          return `${v.model} is being deleted from every node`
        }} />
    </div>
  </section>`
}
