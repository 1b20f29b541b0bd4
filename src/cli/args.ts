/// Option parsing and usage text shared by the subcommands: each command declares its options once
/// (with the help line for each), and from that table come `--help`, the usage printed with an
/// error, and strict parsing (node:util parseArgs) where an unknown option is a UsageError.
import { parseArgs } from 'node:util'

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  /// Placeholder of a string option's value in the usage text (FILE, DIR, NAME).
  readonly value?: string
  readonly help: string
}

export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /// As typed after `scanwall`: 'scan', 'node offline'.
  readonly name: string
  readonly about: string
  readonly options: O
  /// The positional arguments as shown in the usage ('PATH...'); absent: none are accepted.
  readonly positionals?: string
}

/// Bad command-line input: main prints `scanwall <command>: <message>` and the command's usage, exit 2.
export class UsageError extends Error {
  readonly command: string
  readonly usage: string
  constructor (command: string, message: string, usage: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
    this.usage = usage
  }
}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' }

export function usage (spec: CommandSpec): string {
  const options = Object.entries({ ...spec.options, help: helpOption }).map(([name, o]) => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    return `  ${flag.padEnd(24)} ${o.help}`
  })
  const line = ['usage: scanwall', spec.name, '[options]', spec.positionals].filter(Boolean).join(' ')
  return [line, `${spec.about}`, '', 'options:', ...options].join('\n')
}

type Values<O extends Record<string, OptionSpec>> = { readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean }

export interface Parsed<O extends Record<string, OptionSpec>> { readonly values: Values<O>, readonly positionals: string[] }

/// The command's options and positionals, or 'help' when --help/-h was given (the caller prints
/// the usage to stdout and exits 0). Anything else unexpected is a UsageError.
export function parseCommand<O extends Record<string, OptionSpec>> (spec: CommandSpec<O>, args: string[]): Parsed<O> | 'help' {
  const options = Object.fromEntries(Object.entries({ ...spec.options, help: helpOption }).map(([name, o]) =>
    [name, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }]))
  let parsed: { values: Record<string, string | boolean | undefined>, positionals: string[] }
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch (err) {
    throw new UsageError(spec.name, describe(err), usage(spec))
  }
  if (parsed.values['help'] === true) return 'help'
  const extra = spec.positionals === undefined ? parsed.positionals[0] : undefined
  if (extra !== undefined) throw new UsageError(spec.name, `unexpected argument '${extra}'`, usage(spec))
  // parseArgs checked every value against the option table the Values type is built from.
  return { values: parsed.values as Values<O>, positionals: parsed.positionals }
}

/// parseArgs's messages, shortened to the part an operator needs.
function describe (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const unknown = /^Unknown option '([^']+)'/.exec(message)
  if (unknown !== null) return `unknown option ${unknown[1]}`
  return message.charAt(0).toLowerCase() + message.slice(1)
}

/// A command with actions (`scanwall node offline|online`): picks the action by the first
/// argument; `--help` or no action prints the list.
export interface Action { readonly about: string, readonly run: (args: string[]) => Promise<number> }

export function groupUsage (group: string, actions: Readonly<Record<string, Action>>): string {
  const lines = Object.entries(actions).map(([name, a]) => `  ${name.padEnd(24)} ${a.about}`)
  return [`usage: scanwall ${group} <${Object.keys(actions).join('|')}> [options]`, '', 'actions:', ...lines, '', `\`scanwall ${group} <action> --help\` lists an action's options.`].join('\n')
}

export async function runGroup (group: string, actions: Readonly<Record<string, Action>>, args: string[]): Promise<number> {
  const [name, ...rest] = args
  if (name === '--help' || name === '-h') {
    process.stdout.write(`${groupUsage(group, actions)}\n`)
    return 0
  }
  const action = name !== undefined && Object.hasOwn(actions, name) ? actions[name] : undefined
  if (action === undefined) {
    throw new UsageError(group, name === undefined ? 'missing action' : `unknown action '${name}'`, groupUsage(group, actions))
  }
  return await action.run(rest)
}

/// Runs a command body after parsing; --help prints the usage instead.
export async function withOptions<O extends Record<string, OptionSpec>> (spec: CommandSpec<O>, args: string[], body: (parsed: Parsed<O>) => Promise<number>): Promise<number> {
  const parsed = parseCommand(spec, args)
  if (parsed === 'help') {
    process.stdout.write(`${usage(spec)}\n`)
    return 0
  }
  return await body(parsed)
}
