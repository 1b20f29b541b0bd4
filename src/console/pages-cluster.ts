/// The cluster and signatures pages: every node as it reports itself (state, uptime, signatures,
/// counters, health tests) and every cluster instance's members as this node's agents see them
/// (state, weight, buckets owned/mapped, load, last heartbeat, health), with offline/online per
/// node and per instance for admins; the signatures each node runs and `update now`.
import { action, ago, html, when, type Html } from './html.js'
import type { FromNode, NodeSnapshot } from './types.js'

const state = (s: string): Html => html`<span class="state state-${s}">${s}</span>`

function unreachable (answers: ReadonlyArray<FromNode<NodeSnapshot>>): Html {
  const failed = answers.filter(a => !a.ok)
  return failed.length === 0 ? html`` : html`<p class="warn">No answer from ${failed.map(f => html`<b>${f.node}</b> (${f.ok ? '' : f.error}) `)}</p>`
}

function nodeRows (answers: ReadonlyArray<FromNode<NodeSnapshot>>, admin: boolean): Html {
  return html`<table id="nodes"><thead><tr><th>node</th><th>state</th><th>uptime</th><th>signatures</th><th>objects</th><th>infections</th><th>blocks</th><th>open conns</th><th>health tests</th>${admin ? html`<th>actions</th>` : html``}</tr></thead><tbody>
${answers.map(a => a.ok
    ? html`<tr data-node="${a.node}"><td>${a.node}</td><td>${state(a.data.state)}</td><td>${ago(a.data.uptimeMs)}</td><td>${a.data.signatures.version}</td>
<td>${a.data.counters.objects}</td><td>${a.data.counters.infections}</td><td>${a.data.counters.blocks}</td><td>${a.data.counters.connectionsOpen}</td>
<td>${a.data.health.map(h => html`<span class="health health-${h.status}" title="${h.output}">${h.name}: ${h.status}</span> `)}</td>
${admin ? html`<td>${action('offline', `/api/nodes/${encodeURIComponent(a.node)}/offline`, `Take ${a.node} offline?`)} ${action('online', `/api/nodes/${encodeURIComponent(a.node)}/online`)}</td>` : html``}</tr>`
    : html`<tr data-node="${a.node}" class="down"><td>${a.node}</td><td colspan="8">no answer: ${a.error}</td>${admin ? html`<td></td>` : html``}</tr>`)}
</tbody></table>`
}

/// Per instance, the members as the first answering node (this one) sees them (every agent computes
/// the same map); each node's state, owned buckets and load come from that node's own answer.
function instanceTables (answers: ReadonlyArray<FromNode<NodeSnapshot>>, admin: boolean): Html {
  const live = answers.flatMap(a => a.ok ? [a.data] : [])
  const view = live[0]
  if (view === undefined) return html``
  return html`${view.instances.map(instance => {
    const rows = view.members.filter(m => m.instance === instance).map(m => {
      // The node's own figures (its filter, its load); the heartbeat age as the viewing node hears it.
      const own = live.find(s => s.node === m.id)?.members.find(x => x.instance === instance && x.self)
      return own === undefined ? m : { ...m, state: own.state, owned: own.owned, load: own.load, connections: own.connections, healthy: own.healthy, failing: own.failing }
    })
    const owned = rows.reduce((n, m) => n + m.owned, 0)
    return html`<h2>Instance ${instance === '' ? '(standalone)' : instance}</h2><p>${owned} buckets owned in total.</p>
<table class="members" data-instance="${instance}"><thead><tr><th>node</th><th>state</th><th>weight</th><th>buckets owned</th><th>mapped</th><th>load</th><th>connections</th><th>last heartbeat</th><th>health</th><th>signatures</th>${admin && instance !== '' ? html`<th>instance actions</th>` : html``}</tr></thead><tbody>
${rows.map(m => html`<tr data-node="${m.id}"><td>${m.id}</td><td>${state(m.state)}</td><td>${m.weight}</td><td class="owned">${m.owned}</td><td>${m.mapped}</td><td>${m.load} %</td><td>${m.connections}</td>
<td>${m.self ? 'this node' : `${ago(m.lastHeartbeatMs)} ago`}</td><td>${m.healthy ? 'ok' : html`<span class="health health-failed">failing: ${m.failing.join(', ')}</span>`}</td><td>${m.signatureVersion}</td>
${admin && instance !== '' ? html`<td>${action('offline', `/api/nodes/${encodeURIComponent(m.id)}/offline?instance=${encodeURIComponent(instance)}`, `Take ${m.id} out of ${instance}?`)} ${action('online', `/api/nodes/${encodeURIComponent(m.id)}/online?instance=${encodeURIComponent(instance)}`)}</td>` : html``}</tr>`)}
</tbody></table>`
  })}`
}

export function clusterPage (answers: ReadonlyArray<FromNode<NodeSnapshot>>, admin: boolean): Html {
  return html`${unreachable(answers)}<h2>Nodes</h2>${nodeRows(answers, admin)}${instanceTables(answers, admin)}`
}

export function signaturesPage (answers: ReadonlyArray<FromNode<NodeSnapshot>>, admin: boolean): Html {
  return html`${unreachable(answers)}<table id="signatures"><thead><tr><th>node</th><th>version</th><th>signatures</th><th>loaded</th><th>last check</th><th>last update</th><th>last error</th><th>source</th>${admin ? html`<th></th>` : html``}</tr></thead><tbody>
${answers.flatMap(a => a.ok ? [a.data] : []).map(s => html`<tr data-node="${s.node}"><td>${s.node}</td><td>${s.signatures.version}</td><td>${s.signatures.count}</td><td>${when(s.signatures.loadedAt)}</td>
<td>${when(s.signatures.lastCheck)}</td><td>${when(s.signatures.lastUpdate)}</td><td>${s.signatures.lastError}</td><td>${s.signatures.mirror === '' ? 'signatures.dir (watched)' : s.signatures.mirror}</td>
${admin ? html`<td>${action('update now', `/api/signatures/${encodeURIComponent(s.node)}/update`)}</td>` : html``}</tr>`)}</tbody></table>`
}
