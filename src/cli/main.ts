#!/usr/bin/env node
/// The `scanwall` command: a table of subcommands, each in its own file, and the one place that
/// turns errors into exit codes: usage errors 2 (with the command's usage), bad configuration 78
/// (EX_CONFIG, one line naming the key), anything else 1 (one line, no stack trace).
/// Each command's module is imported only when that command runs: loading every command's stack
/// (the ICAP server, the cluster, SQLite, the update client) cost `scanwall scan` about 0.35 s of
/// CPU at every start.
import { UsageError } from './args.js'
import { isConfigError } from '../../config/errors.js'
import { isScanwallError } from '../errors.js'

interface Command { readonly about: string, readonly run: (args: string[]) => Promise<number> }

const commands: Readonly<Record<string, Command>> = {
  start: { about: 'run a node (ICAP on 127.0.0.1:1344 by default)', run: async a => await (await import('./start.js')).runStart(a) },
  scan: { about: 'scan files like clamscan (exit 0 clean, 1 found, 2 error)', run: async a => await (await import('./scan.js')).runScan(a) },
  node: { about: 'offline|online: drain this node out of its cluster(s) / bring it back', run: async a => await (await import('./cluster.js')).runNode(a) },
  cluster: { about: 'status: every node\'s state, weight, buckets, load, last heartbeat', run: async a => await (await import('./cluster.js')).runCluster(a) },
  sigs: { about: 'update|info|rollback: signature updates from updates.mirror (verified), what runs, going back', run: async a => await (await import('./sigs.js')).runSigs(a) },
  reload: { about: 'check the policy of --config and make the running node apply it (control socket, or SIGHUP to --pid)', run: async a => await (await import('./reload.js')).runReload(a) },
  quarantine: { about: 'list|show|export|release|delete: the objects kept when blocked', run: async a => await (await import('./quarantine.js')).runQuarantine(a) },
  stats: { about: 'totals per service, client, user, threat, rule or sender from the decision database', run: async a => await (await import('./stats.js')).runStats(a) },
  spam: { about: 'learn: teach the shared spam model from mbox files or message directories', run: async a => await (await import('./spam.js')).runSpam(a) },
  events: { about: 'detections, blocks and quarantines from the decision database', run: async a => await (await import('./stats.js')).runEvents(a) },
  user: { about: 'add|remove|list: the management console\'s local users (scrypt hashes, roles admin|viewer)', run: async a => await (await import('./users.js')).runUser(a) },
  token: { about: 'add|list: API tokens for the management API and /metrics', run: async a => await (await import('./users.js')).runToken(a) },
  witness: { about: 'the tie-breaker vote for two-node clusters and even splits (run on a third host)', run: async a => await (await import('./witness.js')).runWitness(a) },
}

const usage = [
  'usage: scanwall <command> [options]',
  '',
  'commands:',
  ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.about}`),
  '',
  '`scanwall <command> --help` lists a command\'s options.',
].join('\n')

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) throw new UsageError('', name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}'`, usage)
  return await command.run(rest)
}

function exitCodeFor (err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`scanwall${err.command === '' ? '' : ` ${err.command}`}: ${err.message}\n${err.usage}\n`)
    return 2
  }
  process.stderr.write(`scanwall: ${err instanceof Error ? err.message : String(err)}\n`)
  return isConfigError(err) || (isScanwallError(err) && err.code === 'CONFIG_INVALID') ? 78 : 1
}

// A reader that went away (`scanwall scan … | head`) ends the command quietly, as SIGPIPE ends
// clamscan: Node ignores SIGPIPE, so the next write fails with EPIPE, an unhandled stream error.
// 141 is what a shell reports for a command SIGPIPE killed (128 + 13).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(141)
  throw err
})

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => { process.exitCode = exitCodeFor(err) })
