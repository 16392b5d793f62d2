import { h, render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import htm from 'htm'
import { ago, percent, rate, size } from './format.js'
import { Matrix } from './matrix.js'
import { Actions, call, savedToken, saveToken } from './actions.js'

const html = htm.bind(h)

/**
 * The live view: one snapshot on connect and after each change, over server-sent events. Read with
 * fetch rather than EventSource, which cannot send the token a node started with --open none asks for.
 */
function useSnapshot () {
  const [snapshot, setSnapshot] = useState(undefined)
  const [live, setLive] = useState('connecting')
  useEffect(() => {
    let stopped = false
    let ac
    const connect = async () => {
      while (!stopped) {
        ac = new AbortController()
        try {
          const headers = savedToken() !== '' ? { Authorization: `Bearer ${savedToken()}` } : {}
          const res = await fetch('/api/cluster/events', { headers, signal: ac.signal })
          if (res.status === 401) { setLive('token'); await waitForToken(); continue }
          if (!res.ok || res.body === null) throw new Error(`${res.status}`)
          setLive('live')
          await readEvents(res.body, (event, data) => { if (event === 'snapshot') setSnapshot(JSON.parse(data)) })
        } catch {}
        if (stopped) return
        setLive('reconnecting')
        await new Promise(resolve => setTimeout(resolve, 3000))
      }
    }
    void connect()
    return () => { stopped = true; ac?.abort() }
  }, [])
  return [snapshot, live]
}

const waitForToken = () => new Promise(resolve => { addEventListener('ollamad-token', resolve, { once: true }) })

/** Splits a server-sent-events body into (event, data) pairs. */
async function readEvents (body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length > 0) onEvent(event, data.join('\n'))
    }
  }
}

function Bar ({ part, whole, label }) {
  const p = percent(part, whole)
  return html`<div class="bar-outer" role="progressbar" aria-valuenow=${p} aria-valuemin="0" aria-valuemax="100" title=${label ?? `${p}%`}><div class="bar-inner" style=${`width:${p}%`}></div></div>`
}

function Nodes ({ snapshot }) {
  return html`<section aria-labelledby="nodes-title">
    <h2 id="nodes-title">Nodes</h2>
    <div class="scroll"><table class="nodes" id="nodes">
      <thead><tr><th>node</th><th>state</th><th>Ollama</th><th>version</th><th>disk used / free</th><th>GPUs (VRAM used / free)</th><th>loaded</th><th>in from peers</th><th>in from registry</th><th>out to peers</th></tr></thead>
      <tbody>${snapshot.nodes.map(n => html`<tr key=${n.id} data-node=${n.name} class=${n.liveness}>
        <th title=${n.id}>${n.name}${n.self ? html` <span class="muted">(this node)</span>` : ''}</th>
        <td><span class=${`state ${n.liveness}`}>${n.liveness}</span>${n.liveness !== 'alive' ? html` <span class="muted">${ago(n.last_update)}</span>` : ''}</td>
        <td class="ollama"><span class=${`state ${n.ollama === 'up' ? 'alive' : 'gone'}`}>${n.ollama === 'up' ? 'reachable' : 'down'}</span></td>
        <td>${n.version}</td>
        <td>${size(n.disk.total - n.disk.free)} / ${size(n.disk.free)}<${Bar} part=${n.disk.total - n.disk.free} whole=${n.disk.total} />${n.no_room.length > 0 ? html`<div class="error">no room for ${n.no_room.join(', ')}</div>` : ''}</td>
        <td>${n.gpus.length === 0 ? html`<span class="muted">none</span>` : n.gpus.map(g => html`<div>${g.name}: ${size(g.used)} / ${size(g.free)}<${Bar} part=${g.used} whole=${g.total} /></div>`)}</td>
        <td class="loaded">${n.loaded.length === 0 ? html`<span class="muted">–</span>` : n.loaded.map(l => html`<div>${l.name} <span class="muted">${size(l.vram)}</span></div>`)}</td>
        <td class="num">${rate(n.rates.from_peers)}</td>
        <td class="num">${rate(n.rates.from_registry)}</td>
        <td class="num">${rate(n.rates.to_peers)}</td>
      </tr>`)}</tbody>
    </table></div>
  </section>`
}

function Jobs ({ snapshot }) {
  const [error, setError] = useState(undefined)
  const cancel = async (id) => { setError(undefined); try { await call('DELETE', `/api/cluster/jobs/${encodeURIComponent(id)}`) } catch (e) { setError(e.message) } }
  return html`<section aria-labelledby="jobs-title">
    <h2 id="jobs-title">Jobs</h2>
    ${error !== undefined ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${snapshot.jobs.length === 0 ? html`<p class="muted">No pull jobs in the last day.</p>` : ''}
    <div class="jobs" id="jobs">${snapshot.jobs.map(j => html`<div class="job" key=${j.id} data-job=${j.id} data-state=${j.state}>
      <div class="job-head"><strong>${j.model}</strong> <span class=${`state ${j.state}`}>${j.state}</span> <span class="muted">${ago(Date.parse(j.created_at))} · ${j.id}</span>
        ${j.state === 'running' ? html`<button type="button" class="small" onClick=${() => cancel(j.id)}>Cancel</button>` : ''}</div>
      ${[...j.nodes].sort((x, y) => x.name < y.name ? -1 : 1).map(n => html`<div class="job-node" data-node=${n.name} data-state=${n.state}>
        <span class="job-node-name">${n.name}</span>
        <${Bar} part=${n.state === 'completed' ? 1 : n.completed} whole=${n.state === 'completed' ? 1 : n.total} />
        <span class="muted">${n.state}${n.total > 0 && n.state !== 'completed' ? ` ${size(n.completed)} / ${size(n.total)}` : ''}</span>
        ${n.error !== undefined ? html`<span class="error">${n.error}</span>` : ''}
      </div>`)}
    </div>`)}</div>
  </section>`
}

function Token () {
  const [value, setValue] = useState(savedToken())
  const [saved, setSaved] = useState(savedToken() !== '')
  return html`<form class="token" onSubmit=${e => { e.preventDefault(); saveToken(value.trim()); setSaved(value.trim() !== ''); dispatchEvent(new Event('ollamad-token')) }}>
    <label>cluster token <input type="password" id="token" autocomplete="off" value=${value} onInput=${e => setValue(e.currentTarget.value)} /></label>
    <button type="submit">${value.trim() === '' ? 'Clear' : 'Use'}</button>
    <span class="muted">${saved ? 'set for this tab' : 'not set: actions that change the cluster will ask for it'}</span>
  </form>`
}

function App () {
  const [snapshot, live] = useSnapshot()
  if (live === 'token') {
    return html`<header><h1>ollamad</h1><${Token} /></header>
      <main><p class="error" role="alert" id="needs-token">This node shows the cluster only with its token: paste the output of <code>ollamad token</code> above.</p></main>`
  }
  if (snapshot === undefined) return html`<p class="muted">${live === 'live' ? 'Loading…' : 'Connecting to the node…'}</p>`
  const count = (s) => snapshot.nodes.filter(n => n.liveness === s).length
  const self = snapshot.nodes.find(n => n.self)
  return html`<header>
      <h1>ollamad <span class="muted">on ${self?.name ?? 'this node'}</span></h1>
      <span class="summary">${count('alive')} alive · ${count('suspect')} suspect · ${count('gone')} gone · ${snapshot.models.length} models</span>
      <span class=${`live ${live === 'live' ? 'on' : 'off'}`} id="live">${live === 'live' ? 'live' : 'reconnecting…'}</span>
      <${Token} />
    </header>
    <main>
      <${Nodes} snapshot=${snapshot} />
      <${Matrix} snapshot=${snapshot} />
      <${Jobs} snapshot=${snapshot} />
      <${Actions} />
    </main>`
}

render(html`<${App} />`, document.getElementById('app'))
