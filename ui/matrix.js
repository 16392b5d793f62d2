import { h } from 'preact'
import { useState } from 'preact/hooks'
import htm from 'htm'
import { size } from './format.js'

const html = htm.bind(h)

/** One cell: complete, partial with its percent, or absent; pinned ones are outlined. */
function Cell ({ value, pinned, node, model }) {
  const kind = value === 'c' ? 'complete' : value === 'a' ? 'absent' : 'partial'
  const what = kind === 'partial' ? `${value}%` : kind
  return html`<td class=${`cell ${kind}${pinned ? ' pinned' : ''}`} data-node=${node.name} data-state=${kind} title=${`${model.name} on ${node.name}: ${what}${pinned ? ', pinned' : ''}`}>
    ${kind === 'partial' ? html`<span class="pct">${value}</span>` : kind === 'complete' ? '●' : ''}
  </td>`
}

/** Models by nodes. A filter keeps 200 models by 64 nodes usable. */
export function Matrix ({ snapshot }) {
  const [filter, setFilter] = useState('')
  const nodes = snapshot.nodes
  const shown = snapshot.models.filter(m => filter === '' || m.name.includes(filter))
  return html`<section aria-labelledby="matrix-title">
    <div class="bar">
      <h2 id="matrix-title">Coverage</h2>
      <input type="search" placeholder="filter models" aria-label="filter models" value=${filter} onInput=${e => setFilter(e.currentTarget.value)} />
      <span class="legend"><span class="cell complete">●</span> complete <span class="cell partial"><span class="pct">42</span></span> partial % <span class="cell absent"></span> absent <span class="cell pinned absent"></span> pinned</span>
    </div>
    <div class="scroll">
      <table class="matrix" id="matrix">
        <thead><tr><th class="model">model</th><th>size</th><th>replicas</th>${nodes.map(n => html`<th class=${`node ${n.liveness}`} title=${`${n.name} (${n.liveness})`}><span>${n.name}</span></th>`)}</tr></thead>
        <tbody>
          ${shown.map(m => html`<tr key=${`${m.name}@${m.digest}`} data-model=${m.name}>
            <th class="model" title=${m.digest !== '' ? `sha256:${m.digest}` : 'on its way'}>${m.name}</th>
            <td class="num">${size(m.size)}</td>
            <td class="num">${m.replicas ?? '–'}</td>
            ${m.cells.map((v, i) => html`<${Cell} value=${v} pinned=${m.pinned.includes(i)} node=${nodes[i]} model=${m} />`)}
          </tr>`)}
          ${shown.length === 0 ? html`<tr><td colspan=${3 + nodes.length} class="muted">${snapshot.models.length === 0 ? 'No models in the cluster yet: pull one below.' : 'No model matches the filter.'}</td></tr>` : ''}
        </tbody>
      </table>
    </div>
  </section>`
}
