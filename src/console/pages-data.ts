/// The traffic, events and quarantine pages. Every value shown came from traffic (URLs, threat
/// names, user names, client addresses) and goes through the escaping `html` tag; URLs are text,
/// never links, so a hostile one cannot even be clicked.
import { action, bytes, html, when, type Html } from './html.js'
import type { FromNode, NodeTraffic } from './types.js'
import type { DecisionEvent } from '../records/event.js'
import type { QuarantineEntry } from '../quarantine/store.js'
import type { TotalRow } from '../records/sql.js'

export interface EventFilter { readonly service: string, readonly client: string, readonly user: string, readonly threat: string, readonly action: string, readonly since: string }

export function trafficPage (answers: ReadonlyArray<FromNode<NodeTraffic>>, pollMs: number): Html {
  const totals = new Map<string, TotalRow>()
  for (const a of answers) {
    if (!a.ok) continue
    for (const r of a.data.byService) {
      const t = totals.get(r.key) ?? { key: r.key, objects: 0, bytes: 0, infections: 0, blocks: 0 }
      totals.set(r.key, { key: r.key, objects: t.objects + r.objects, bytes: t.bytes + r.bytes, infections: t.infections + r.infections, blocks: t.blocks + r.blocks })
    }
  }
  return html`<p>Live, the whole cluster (${answers.filter(a => a.ok).length} of ${answers.length} nodes answering), sampled every ${pollMs / 1000} s: objects/s, infections/s and blocks/s (left axis), MB/s (right).</p>
<div id="chart" data-poll-ms="${pollMs}"></div>
<p id="chart-status">objects so far: <span id="total-objects">…</span>, infections: <span id="total-infections">…</span>, blocks: <span id="total-blocks">…</span></p>
<h2>Per service, last 24 h (decision database)</h2>
<table id="by-service"><thead><tr><th>service</th><th>objects</th><th>bytes</th><th>infections</th><th>blocks</th></tr></thead><tbody>
${[...totals.values()].sort((a, b) => b.objects - a.objects).map(t => html`<tr><td>${t.key}</td><td>${t.objects}</td><td>${bytes(t.bytes)}</td><td>${t.infections}</td><td>${t.blocks}</td></tr>`)}
</tbody></table>`
}

function filterForm (f: EventFilter): Html {
  const input = (name: keyof EventFilter, label: string): Html => html`<label>${label} <input name="${name}" value="${f[name]}"></label> `
  return html`<form method="get" action="/events" class="filters">${input('service', 'service')}${input('client', 'client')}${input('user', 'user')}${input('threat', 'threat')}${input('action', 'action')}
<label>since <select name="since">${['1h', '24h', '7d'].map(s => html`<option${s === f.since ? html` selected` : html``}>${s}</option>`)}</select></label> <button>Filter</button></form>`
}

export function eventsPage (events: readonly DecisionEvent[], failed: readonly string[], filter: EventFilter): Html {
  return html`${filterForm(filter)}${failed.length > 0 ? html`<p class="warn">No answer from ${failed.join(', ')}</p>` : html``}
<p>${events.length} events, newest first.</p>
<table id="events"><thead><tr><th>time</th><th>node</th><th>action</th><th>service</th><th>client</th><th>user</th><th>threat</th><th>URL / target</th><th>reason</th><th>quarantine</th></tr></thead><tbody>
${events.map(e => html`<tr class="event-${e.action}"><td>${when(e.at)}</td><td>${e.node}</td><td>${e.action === 'admin' ? `admin: ${e.method}` : e.action}</td><td>${e.service}</td><td>${e.client}</td><td class="user">${e.user}</td>
<td class="threat">${e.threat}</td><td class="url">${e.url}</td><td>${e.reason}</td><td>${e.quarantineId === '' ? '' : html`<a href="/quarantine/${encodeURIComponent(e.node)}/${encodeURIComponent(e.quarantineId)}">${e.quarantineId}</a>`}</td></tr>`)}
</tbody></table>`
}

type Entry = QuarantineEntry & { readonly node: string }

function entryActions (e: Entry, admin: boolean): Html {
  const base = `/api/quarantine/${encodeURIComponent(e.node)}/${encodeURIComponent(e.id)}`
  return html`<a href="${base}/download">download (defanged)</a>${admin ? html` ${e.released === undefined ? action('release', `${base}/release`, `Release ${e.id}?`) : html``} ${action('delete', `${base}/delete`, `Delete ${e.id}?`)}` : html``}`
}

export function quarantinePage (answers: ReadonlyArray<FromNode<readonly Entry[]>>, admin: boolean): Html {
  const entries = answers.flatMap(a => a.ok ? a.data : []).sort((a, b) => b.at.localeCompare(a.at))
  const failed = answers.flatMap(a => a.ok ? [] : [a.node])
  return html`${failed.length > 0 ? html`<p class="warn">No answer from ${failed.join(', ')}</p>` : html``}<p>${entries.length} objects kept.</p>
<table id="quarantine"><thead><tr><th>time</th><th>node</th><th>id</th><th>threat</th><th>URL</th><th>client</th><th>user</th><th>size</th><th>state</th><th></th></tr></thead><tbody>
${entries.map(e => html`<tr data-id="${e.id}"><td>${e.at}</td><td>${e.node}</td><td><a href="/quarantine/${encodeURIComponent(e.node)}/${encodeURIComponent(e.id)}">${e.id}</a></td><td class="threat">${e.threat}</td><td class="url">${e.url}</td>
<td>${e.client}</td><td class="user">${e.user}</td><td>${bytes(e.size)}</td><td class="qstate">${e.released === undefined ? 'kept' : `released ${e.released}`}</td><td>${entryActions(e, admin)}</td></tr>`)}
</tbody></table>`
}

export function quarantineDetail (e: Entry, admin: boolean): Html {
  const rows: Array<[string, unknown]> = [['id', e.id], ['node', e.node], ['time', e.at], ['threat', e.threat], ['reason', e.reason], ['verdict', e.verdict], ['service', e.service],
    ['method', e.method], ['URL', e.url], ['client', e.client], ['user', e.user], ['size', `${e.size} bytes (${e.stored} stored)`], ['SHA-256', e.sha256], ['SHA-1', e.sha1], ['MD5', e.md5], ['state', e.released === undefined ? 'kept' : `released ${e.released}`]]
  return html`<table id="detail">${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table><p>${entryActions(e, admin)}</p>`
}
