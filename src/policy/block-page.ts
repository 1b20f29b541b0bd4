/// The HTML block page shown to the user when an object is blocked. The template is the operator's
/// (blockPage.template) or the built-in one; every value is HTML-escaped before it is inserted.
/// Placeholders: {{threat}} {{url}} {{node}} {{service}} {{reason}} {{profile}}.
import { readFile } from 'node:fs/promises'

export const builtinBlockTemplate = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Blocked by Scanwall</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Access blocked</h1>
<p>The object you requested was blocked by the gateway's policy.</p>
<table>
<tr><th align="left">Threat</th><td>{{threat}}</td></tr>
<tr><th align="left">Reason</th><td>{{reason}}</td></tr>
<tr><th align="left">URL</th><td>{{url}}</td></tr>
<tr><th align="left">Service</th><td>{{service}}</td></tr>
<tr><th align="left">Node</th><td>{{node}}</td></tr>
</table>
<p>If you believe this is a mistake, contact your network administrator and quote the lines above.</p>
</body>
</html>
`

export async function readBlockTemplate (path: string): Promise<string> {
  return path === '' ? builtinBlockTemplate : await readFile(path, 'utf8')
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => entities[c] ?? c)
}

export interface BlockPageValues {
  readonly threat: string
  readonly url: string
  readonly node: string
  readonly service: string
  /// Why (the decision's reason: infected, unsigned: PE, denied-url: …) and the profile that decided.
  readonly reason?: string
  readonly profile?: string
}

export function renderBlockPage (template: string, values: BlockPageValues): string {
  return template.replace(/\{\{(threat|url|node|service|reason|profile)\}\}/g, (_, key: keyof BlockPageValues) => escapeHtml(values[key] ?? ''))
}
