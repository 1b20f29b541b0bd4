#!/usr/bin/env node
/// The `scanwall` command: a table of subcommands, each in its own file.
import { runStart } from './start.js'
import { runScan } from './scan.js'
import { runNode, runCluster } from './cluster.js'
import { runWitness } from './witness.js'

type Command = (args: string[]) => Promise<number>

const commands = new Map<string, Command>([
  ['start', runStart],
  ['scan', runScan],
  ['node', runNode],
  ['cluster', runCluster],
  ['witness', runWitness],
])

const usage = `usage: scanwall <command> [options]
  start [--config FILE]   run a node (ICAP on 127.0.0.1:1344 by default)
  scan PATH... [--db DIR] [--lenient] [--no-summary]   scan files like clamscan (exit 0 clean, 1 found, 2 error)
  node offline|online     drain this node out of its cluster(s) / bring it back
  cluster status          every node: state, weight, buckets, load, last heartbeat
  witness --listen IP:PORT --key-file FILE [--lease-ms N]   tie-breaker vote for two-node clusters and even splits`

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const command = name === undefined ? undefined : commands.get(name)
  if (command === undefined) {
    process.stderr.write(`${usage}\n`)
    return name === undefined || name === '--help' || name === '-h' ? 0 : 2
  }
  return await command(rest)
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`scanwall: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
