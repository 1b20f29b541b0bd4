/// The console's only script (served from the package, no network at run time): buttons that make
/// changes (a POST with the session's CSRF token from the page's meta tag), and the live traffic
/// chart (uPlot), which polls /api/traffic and turns the nodes' cumulative counters into rates.
/* global uPlot */
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="csrf"]')?.getAttribute('content') ?? ''
  const flash = (text, bad) => {
    const el = document.getElementById('flash')
    if (el === null) return
    el.textContent = text
    el.className = bad ? 'warn' : 'ok'
  }

  document.addEventListener('click', async event => {
    const button = typeof event.target?.closest === 'function' ? event.target.closest('button[data-action]') : null
    if (button === null) return
    const confirmText = button.getAttribute('data-confirm')
    if (confirmText !== null && !window.confirm(confirmText)) return
    button.disabled = true
    try {
      const res = await fetch(button.getAttribute('data-url'), { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' })
      const body = await res.json().catch(() => ({ ok: res.ok }))
      if (button.getAttribute('data-action') === 'logout') { window.location.assign('/login'); return }
      if (!res.ok || body.ok !== true) { flash(`Refused (${res.status}): ${body.error ?? ''}`, true); return }
      flash(`Done: ${JSON.stringify(body.data)}`, false)
      setTimeout(() => window.location.reload(), 800)
    } catch (err) {
      flash(`Failed: ${err}`, true)
    } finally {
      button.disabled = false
    }
  })

  const chartEl = document.getElementById('chart')
  if (chartEl === null || typeof uPlot === 'undefined') return
  const pollMs = Number(chartEl.getAttribute('data-poll-ms')) || 2000
  // Per node, the cumulative samples kept here (later polls ask only for what is new); rates are
  // differences of neighbours.
  const kept = new Map()
  const merge = (answers) => {
    for (const a of answers) {
      if (!a.ok) continue
      const old = kept.get(a.node) ?? []
      const last = old.length === 0 ? 0 : old[old.length - 1].at
      kept.set(a.node, old.concat(a.data.samples.filter(s => s.at > last)).slice(-1800))
    }
  }
  const since = () => {
    if (kept.size === 0) return 0
    // The oldest of the nodes' newest samples, less two intervals for clocks that differ a little.
    return Math.min(...[...kept.values()].map(s => s.length === 0 ? 0 : s[s.length - 1].at)) - 2 * pollMs
  }
  const series = () => {
    const points = new Map()
    const totals = { objects: 0, infections: 0, blocks: 0 }
    for (const s of kept.values()) {
      const last = s[s.length - 1]
      if (last !== undefined) { totals.objects += last.objects; totals.infections += last.infections; totals.blocks += last.blocks }
      for (let i = 1; i < s.length; i++) {
        const dt = (s[i].at - s[i - 1].at) / 1000
        if (dt <= 0) continue
        // Nodes sample on their own clocks: points are put in slots of one poll interval.
        const slot = Math.round(s[i].at / pollMs) * pollMs / 1000
        const p = points.get(slot) ?? [0, 0, 0, 0]
        p[0] += (s[i].objects - s[i - 1].objects) / dt
        p[1] += (s[i].infections - s[i - 1].infections) / dt
        p[2] += (s[i].blocks - s[i - 1].blocks) / dt
        p[3] += (s[i].bytes - s[i - 1].bytes) / dt / 1e6
        points.set(slot, p)
      }
    }
    const xs = [...points.keys()].sort((a, b) => a - b).slice(-300)
    return { data: [xs, ...[0, 1, 2, 3].map(k => xs.map(x => points.get(x)[k]))], totals }
  }
  const opts = {
    width: Math.min(1100, chartEl.clientWidth || 900),
    height: 320,
    series: [{}, { label: 'objects/s', stroke: '#1f6feb' }, { label: 'infections/s', stroke: '#d1242f' }, { label: 'blocks/s', stroke: '#bf8700' }, { label: 'MB/s', stroke: '#2da44e', scale: 'mb' }],
    // Three significant digits: small test bodies give MB/s in the thousandths.
    axes: [{}, { label: 'per second' }, { side: 1, scale: 'mb', label: 'MB/s', grid: { show: false }, values: (_u, vals) => vals.map(v => Number(v.toPrecision(3))) }],
    scales: { x: { time: true } },
  }
  // uPlot's constructor is named in lower case by its authors.
  const Plot = uPlot
  let plot
  const poll = async () => {
    try {
      const from = since()
      const res = await fetch(from > 0 ? `/api/traffic?since=${from}` : '/api/traffic', { credentials: 'same-origin' })
      if (!res.ok) { flash(`Traffic poll refused (${res.status})`, true); return }
      merge((await res.json()).data)
      const { data, totals } = series()
      if (plot === undefined) plot = new Plot(opts, data, chartEl)
      else plot.setData(data)
      chartEl.setAttribute('data-points', String(data[0].length))
      chartEl.setAttribute('data-last-objects-rate', String(data[1][data[1].length - 1] ?? 0))
      for (const k of ['objects', 'infections', 'blocks']) {
        const el = document.getElementById(`total-${k}`)
        if (el !== null) el.textContent = String(totals[k])
      }
      chartEl.setAttribute('data-total-objects', String(totals.objects))
    } catch (err) {
      flash(`Traffic poll failed: ${err}`, true)
    }
  }
  poll().catch(() => {})
  setInterval(poll, pollMs)
})()
