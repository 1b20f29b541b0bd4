/// Loads and validates the configuration: schema defaults, then the --config file, then the
/// environment. Strict: an unknown key or a bad value is a ScanwallError naming the key.
import convict from 'convict'
import { schema } from './schema.js'
import { ScanwallError, errorMessage } from '../src/errors.js'

function build (env: NodeJS.ProcessEnv): convict.Config<unknown> {
  // convict's generic inference cannot see through `as const`; the property type is restored below.
  return convict(schema as unknown as convict.Schema<unknown>, { env, args: [] })
}

export interface LoadOptions {
  file?: string | undefined
  env?: NodeJS.ProcessEnv
  overrides?: Record<string, unknown>
}

export function loadConfig (options: LoadOptions = {}): ConfigTree {
  const config = build(options.env ?? process.env)
  try {
    if (options.file !== undefined) config.loadFile(options.file)
    if (options.overrides !== undefined) config.load(options.overrides)
    config.validate({ allowed: 'strict' })
  } catch (err) {
    // convict reports one problem per line; the operator gets them on one line, each naming its key.
    throw new ScanwallError('CONFIG_INVALID', errorMessage(err).split('\n').filter(Boolean).join('; '))
  }
  return config.getProperties() as ConfigTree
}

type Leaf<T> = T extends { default: infer D } ? (D extends readonly string[] ? string[] : D extends number ? number : D extends boolean ? boolean : D extends string ? string : D) : never
type Tree<S> = { [K in keyof S]: S[K] extends { doc: string } ? Leaf<S[K]> : Tree<S[K]> }
export type ConfigTree = Tree<typeof schema>
