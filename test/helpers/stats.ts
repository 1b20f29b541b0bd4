/// `scanwall stats --by WHAT` run until its table says what a test waits for: the node writes mail
/// results once a second, so a test polls the CLI (the real binary, the test's config) for a while.
import { spawnSync } from 'node:child_process'
import { cliMain } from './scanwall-node.js'

/// The table once `done(table)` holds; throws with the last table after `timeoutMs`.
export async function statsUntil (config: string, by: string, done: (table: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let out = ''
  while (Date.now() < deadline) {
    const stats = spawnSync(process.execPath, [cliMain, 'stats', '--by', by, '--config', config], { encoding: 'utf8', timeout: 30_000 })
    if (stats.status !== 0) throw new Error(`scanwall stats --by ${by} exited ${String(stats.status)}: ${stats.stderr}`)
    out = stats.stdout
    if (done(out)) return out
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  throw new Error(`stats --by ${by} after ${timeoutMs} ms:\n${out}`)
}
