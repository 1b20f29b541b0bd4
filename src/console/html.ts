/// Server-side HTML with escaping by default: the `html` tag escapes every interpolated value
/// (threat names, URLs, user names and everything else that came from traffic or from a peer), and
/// only fragments this module built (`Html`) pass through unescaped. The page frame carries the
/// session's CSRF token for the bundled script and links only the bundled assets; the server's
/// Content-Security-Policy forbids inline script, so even an unescaped value could not run.

export class Html {
  readonly text: string
  constructor (text: string) { this.text = text }
  toString (): string { return this.text }
}

const entities: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' }

export function escape (value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, c => entities[c] ?? c)
}

function piece (value: unknown): string {
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(piece).join('')
  return escape(value)
}

export function html (strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((v, i) => { out += piece(v) + (strings[i + 1] ?? '') })
  return new Html(out)
}

export const pages = [
  ['cluster', 'Cluster'], ['traffic', 'Traffic'], ['events', 'Detections & events'], ['quarantine', 'Quarantine'], ['signatures', 'Signatures'], ['config', 'Configuration'],
] as const
export type PageName = typeof pages[number][0]

export interface Frame { readonly title: string, readonly page: PageName | 'login', readonly node: string, readonly user?: { readonly name: string, readonly role: string }, readonly csrf?: string }

export function layout (frame: Frame, body: Html): string {
  const nav = frame.user === undefined
    ? html``
    : html`<nav>${pages.map(([name, label]) => html`<a href="/${name}"${name === frame.page ? html` class="here"` : html``}>${label}</a>`)}
      <span class="who">${frame.user.name} (${frame.user.role})</span><button type="button" data-action="logout" data-url="/logout">Log out</button></nav>`
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${frame.title} · Scanwall ${frame.node}</title><meta name="csrf" content="${frame.csrf ?? ''}">
<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/console.css"></head>
<body data-page="${frame.page}"><header><strong>Scanwall</strong> <span class="node">console on ${frame.node}</span>${nav}</header>
<main><h1>${frame.title}</h1><div id="flash" role="status"></div>${body}</main>
<script src="/assets/uPlot.iife.min.js"></script><script src="/assets/console.js"></script></body></html>`.text}`
}

export function when (ms: number): string {
  return ms <= 0 ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

export function ago (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(1)} ${units[u] ?? ''}`
}

/// A button the bundled script turns into a POST with the CSRF token (viewers see none).
export function action (label: string, url: string, confirm = ''): Html {
  return html`<button type="button" data-action="post" data-url="${url}"${confirm === '' ? html`` : html` data-confirm="${confirm}"`}>${label}</button>`
}
