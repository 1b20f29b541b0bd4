/// Minimal option parsing shared by the subcommands (node:util parseArgs, strict).
import { parseArgs } from 'node:util'

export function parseOptions<T extends Record<string, { type: 'string' | 'boolean', short?: string, multiple?: boolean }>> (args: string[], options: T) {
  return parseArgs({ args, options, strict: true, allowPositionals: true })
}
