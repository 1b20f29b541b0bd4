/// `scanwall user add|remove|list` and `scanwall token add|list`: the console's local users and API
/// tokens in `<console.stateDir>/users.json` of the same --config file the node runs with. A
/// password is read from the terminal (not echoed, asked twice) or, when stdin is not a terminal,
/// as its first line (for scripts: `printf '%s\n' "$pw" | scanwall user add alice`). A token is
/// printed once and kept only as a hash. The running node reads the file at each login.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { loadConfig } from '../../config/load.js'
import { UserDb, checkRole, type Role } from '../console/users.js'
import { UsageError, runGroup, usage, withOptions, type CommandSpec, type OptionSpec } from './args.js'

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node runs with (console.stateDir)' } satisfies OptionSpec
const role = { type: 'string', short: 'r', value: 'ROLE', help: 'admin (may change things) or viewer (reads only); default viewer' } satisfies OptionSpec

const specs = {
  userAdd: { name: 'user add', about: 'Add a console user, or set an existing one\'s password and role (password from the terminal or stdin\'s first line).', options: { config, role }, positionals: 'NAME' },
  userRemove: { name: 'user remove', about: 'Remove a console user (sessions end when they expire or the node restarts).', options: { config }, positionals: 'NAME' },
  userList: { name: 'user list', about: 'List the console users and their roles.', options: { config } },
  tokenAdd: { name: 'token add', about: 'Make an API token for scripts and Prometheus (printed once; Authorization: Bearer TOKEN).', options: { config, role }, positionals: 'NAME' },
  tokenList: { name: 'token list', about: 'List the API tokens (names, roles, ids; never the secrets).', options: { config } },
} satisfies Record<string, CommandSpec>

function db (configFile: string | undefined): UserDb {
  return new UserDb(loadConfig({ file: configFile }).console.stateDir)
}

function one (spec: CommandSpec, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(spec.name, positionals.length === 0 ? 'missing NAME' : `unexpected argument '${positionals[1] ?? ''}'`, usage(spec))
  return positionals[0] ?? ''
}

function roleOf (spec: CommandSpec, text: string | undefined): Role {
  try { return checkRole(text ?? 'viewer') } catch (err) { throw new UsageError(spec.name, (err as Error).message, usage(spec)) }
}

/// One line from a terminal without echo.
async function askHidden (prompt: string): Promise<string> {
  process.stderr.write(prompt)
  const muted = new Writable({ write: (_chunk, _enc, done) => { done() } })
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true })
  const line = await new Promise<string>(resolve => rl.once('line', resolve))
  rl.close()
  process.stderr.write('\n')
  return line
}

async function readPassword (): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await askHidden('Password: ')
    if (await askHidden('Again: ') !== first) throw new Error('the two passwords differ')
    return first
  }
  const rl = createInterface({ input: process.stdin })
  const line = await new Promise<string>(resolve => { rl.once('line', resolve); rl.once('close', () => { resolve('') }) })
  rl.close()
  return line
}

const userActions = {
  add: {
    about: specs.userAdd.about,
    run: async (args: string[]) => await withOptions(specs.userAdd, args, async ({ values, positionals }) => {
      const name = one(specs.userAdd, positionals)
      const r = roleOf(specs.userAdd, values.role)
      const users = db(values.config)
      await users.setUser(name, r, await readPassword())
      process.stdout.write(`${name}: ${r} (${users.file})\n`)
      return 0
    }),
  },
  remove: {
    about: specs.userRemove.about,
    run: async (args: string[]) => await withOptions(specs.userRemove, args, async ({ values, positionals }) => {
      const name = one(specs.userRemove, positionals)
      if (!await db(values.config).removeUser(name)) throw new Error(`no user '${name}'`)
      process.stdout.write(`${name}: removed\n`)
      return 0
    }),
  },
  list: {
    about: specs.userList.about,
    run: async (args: string[]) => await withOptions(specs.userList, args, async ({ values }) => {
      const users = (await db(values.config).read()).users
      process.stdout.write(['user\trole\tcreated', ...Object.entries(users).map(([n, u]) => `${n}\t${u.role}\t${u.created}`)].join('\n') + '\n')
      return 0
    }),
  },
}

const tokenActions = {
  add: {
    about: specs.tokenAdd.about,
    run: async (args: string[]) => await withOptions(specs.tokenAdd, args, async ({ values, positionals }) => {
      const name = one(specs.tokenAdd, positionals)
      process.stdout.write(`${await db(values.config).addToken(name, roleOf(specs.tokenAdd, values.role))}\n`)
      return 0
    }),
  },
  list: {
    about: specs.tokenList.about,
    run: async (args: string[]) => await withOptions(specs.tokenList, args, async ({ values }) => {
      const tokens = (await db(values.config).read()).tokens
      process.stdout.write(['id\tname\trole\tcreated', ...Object.entries(tokens).map(([id, t]) => `${id}\t${t.name}\t${t.role}\t${t.created}`)].join('\n') + '\n')
      return 0
    }),
  },
}

export async function runUser (args: string[]): Promise<number> { return await runGroup('user', userActions, args) }
export async function runToken (args: string[]): Promise<number> { return await runGroup('token', tokenActions, args) }
