/// The running configuration as the console shows it, read-only, with secrets masked: every key the
/// schema marks `sensitive` (cluster key, quarantine key, SNMP users and communities, the database
/// URL …) and the cluster instances' keys, plus user:password parts of URLs (a mirror or proxy
/// with credentials). A set secret reads "(set)", an empty one stays empty, so an operator still
/// sees whether it is configured.
import { schema } from '../../config/schema.js'
import type { ConfigTree } from '../../config/load.js'
import { html, type Html } from './html.js'

type Node = { readonly doc: string, readonly sensitive?: boolean } | { readonly [key: string]: Node }
const isEntry = (n: Node): n is { doc: string, sensitive?: boolean } => typeof (n as { doc?: unknown }).doc === 'string'

const secretNames = /key|password|secret|community|token/i

function maskUrl (value: string): string { return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1(credentials)@') }

function masked (value: unknown): unknown {
  if (value === '' || value === undefined || (Array.isArray(value) && value.length === 0)) return value
  return '(set)'
}

/// Walks free-form values (cluster instances): any field whose name says secret is masked.
function maskLoose (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskLoose)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretNames.test(k) && typeof v !== 'object' ? masked(v) : maskLoose(v)]))
  return typeof value === 'string' ? maskUrl(value) : value
}

function walk (node: Node, value: unknown): unknown {
  if (isEntry(node)) return node.sensitive === true ? masked(value) : maskLoose(value)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Object.hasOwn(node, k) ? walk((node as Record<string, Node>)[k] as Node, v) : maskLoose(v)]))
}

export function maskedConfig (config: ConfigTree): unknown {
  return walk(schema as unknown as Node, config)
}

export function configPage (config: ConfigTree): Html {
  return html`<p>The configuration this node runs with (file, environment and defaults), read-only; secrets are masked. Change it in the file and restart the node.</p>
<pre id="config">${JSON.stringify(maskedConfig(config), null, 2)}</pre>`
}
