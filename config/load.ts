/// Loads and validates the configuration: schema defaults, then the --config file, then the
/// environment. Strict: an unknown key or a bad value is a ConfigError whose message is one line
/// naming every bad key with what it must be and what it was.
import convict from 'convict'
import { schema } from './schema.js'
import { ConfigError } from './errors.js'
import { got } from './fields.js'

export { ConfigError, isConfigError } from './errors.js'

/// A schema entry (it has a doc) becomes the type of its value: the parse result when it has one,
/// the union of a literal-list format, else the type of its default (widened from `as const`).
type Leaf<S> = S extends { parse: (value: unknown) => infer T }
  ? T
  : S extends { format: readonly (infer U extends string)[] }
    ? U
    : S extends { default: infer D }
      ? (D extends readonly string[] ? string[] : D extends number ? number : D extends boolean ? boolean : D extends string ? string : D)
      : never
type Tree<S> = { readonly [K in keyof S]: S[K] extends { doc: string } ? Leaf<S[K]> : Tree<S[K]> }
export type ConfigTree = Tree<typeof schema>

export interface LoadOptions {
  file?: string | undefined
  env?: NodeJS.ProcessEnv
  overrides?: Record<string, unknown>
}

interface Entry { readonly doc: string, readonly sensitive?: boolean, readonly parse?: (value: unknown) => unknown }
type Node = Entry | { readonly [key: string]: Node }
const isEntry = (node: Node): node is Entry => 'doc' in node && typeof node.doc === 'string'

/// The schema entry at a dotted path (undefined for a key the schema does not have).
function entryAt (path: string): Entry | undefined {
  let node: Node | undefined = schema
  for (const part of path.split('.')) node = node === undefined || isEntry(node) ? undefined : node[part]
  return node !== undefined && isEntry(node) ? node : undefined
}

/// Turns one line of convict's validation report into ours. convict writes `key: problem` with
/// `: value was X` appended unless X is falsy or secret, and its own sentences for unknown and
/// missing keys; the value is shown here from the config itself so 0, '' and false show too.
function rewrite (line: string, config: convict.Config<Record<string, unknown>>): string {
  const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line)
  if (undeclared !== null) return `${undeclared[1]} is not a known key`
  const missing = /^configuration param '(.+)' missing from config/.exec(line)
  if (missing !== null) return `${missing[1]} is missing (was its parent set to a non-object?)`
  const invalid = /^([\w.]+): (.*?)(?:: value was .*)?$/s.exec(line)
  if (invalid === null) return line
  const [, key = '', convictProblem = ''] = invalid
  const problem = convictProblem.replace(/^must be one of the possible values: (\[.*\])$/, (_, list: string) => `must be one of ${(JSON.parse(list) as unknown[]).join(', ')}`)
  // Formats of lists of objects (cluster instances, SNMP users) name the field themselves.
  if (problem.startsWith(`${key}.`) || problem.startsWith(`${key}[`)) return problem
  if (entryAt(key)?.sensitive === true) return `${key} ${problem}`
  return `${key} ${problem} (got ${got(config.get(key))})`
}

/// Replaces each value whose schema entry has a parse step by its parsed, typed form.
function parseValues (node: Node, values: Record<string, unknown>): void {
  for (const [key, child] of Object.entries(node)) {
    if (!isEntry(child)) parseValues(child, values[key] as Record<string, unknown>)
    else if (child.parse !== undefined) values[key] = child.parse(values[key])
  }
}

export function loadConfig (options: LoadOptions = {}): ConfigTree {
  // The schema is typed by ConfigTree above; convict's own Schema type cannot express `parse`.
  const config = convict(schema as unknown as convict.Schema<Record<string, unknown>>, { env: options.env ?? process.env, args: [] })
  if (options.file !== undefined) {
    try {
      config.loadFile(options.file)
    } catch (err) {
      throw new ConfigError(`config: --config ${options.file}: ${err instanceof Error ? err.message : String(err)}`.split('\n')[0] ?? '')
    }
  }
  try {
    if (options.overrides !== undefined) config.load(options.overrides)
    config.validate({ allowed: 'strict' })
  } catch (err) {
    const report = err instanceof Error ? err.message : String(err)
    throw new ConfigError(`config: ${report.split('\n').filter(Boolean).map(line => rewrite(line, config)).join('; ')}`)
  }
  const values = config.getProperties()
  try {
    parseValues(schema, values)
  } catch (err) {
    // The parse steps name the field themselves (policy.profiles.<name>.<field>).
    throw new ConfigError(`config: ${err instanceof Error ? err.message : String(err)}`)
  }
  return values as ConfigTree
}
