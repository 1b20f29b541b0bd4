#!/usr/bin/env node
/// The `scanwall` command: a table of subcommands, each in its own file, and the one place that
/// turns errors into exit codes: usage errors 2 (with the command's usage), bad configuration 78
/// (EX_CONFIG, one line naming the key), anything else 1 (one line, no stack trace).
import { runStart } from './start.js'
import { runScan } from './scan.js'
import { runNode, runCluster } from './cluster.js'
import { UsageError } from './args.js'
import { isConfigError } from '../../config/load.js'
import { isScanwallError } from '../errors.js'
import { runWitness } from './witness.js'
import { runSigs } from './sigs.js'
import { runQuarantine } from './quarantine.js'
import { runStats, runEvents } from './stats.js'
import { runSpam } from './spam.js'

interface Command { readonly about: string, readonly run: (args: string[]) => Promise<number> }

const commands: Readonly<Record<string, Command>> = {
  start: { about: 'run a node (ICAP on 127.0.0.1:1344 by default)', run: runStart },
  scan: { about: 'scan files like clamscan (exit 0 clean, 1 found, 2 error)', run: runScan },
  node: { about: 'offline|online: drain this node out of its cluster(s) / bring it back', run: runNode },
  cluster: { about: 'status: every node\'s state, weight, buckets, load, last heartbeat', run: runCluster },
  sigs: { about: 'update|info|rollback: signature updates from updates.mirror (verified), what runs, going back', run: runSigs },
  quarantine: { about: 'list|show|export|release|delete: the objects kept when blocked', run: runQuarantine },
  stats: { about: 'totals per service, client, user, threat, rule or sender from the decision database', run: runStats },
  spam: { about: 'learn: teach the shared spam model from mbox files or message directories', run: runSpam },
  events: { about: 'detections, blocks and quarantines from the decision database', run: runEvents },
  witness: { about: 'the tie-breaker vote for two-node clusters and even splits (run on a third host)', run: runWitness },
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

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => { process.exitCode = exitCodeFor(err) })
