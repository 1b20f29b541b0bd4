/// A throw-away PostgreSQL for tests: Debian's postgresql-15 binaries, a cluster made by initdb in a
/// temp directory and started by pg_ctl on a free loopback port (never the system cluster). As root
/// the server runs as the `postgres` user (PostgreSQL refuses root); trust authentication on
/// loopback only. Missing binaries fail loudly: the suite needs the real server.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'
import { tailFile } from './daemon.js'

const run = promisify(execFile)
export const pgBin = '/usr/lib/postgresql/15/bin'

export interface TestPostgres {
  readonly url: string
  readonly port: number
  /// Stops the server (fast shut-down: connections are cut) and, when `start`, starts it again.
  pause (): Promise<void>
  resume (): Promise<void>
  stop (): Promise<void>
}

export async function startPostgres (): Promise<TestPostgres> {
  if (!existsSync(join(pgBin, 'initdb'))) throw new Error(`${pgBin}/initdb missing: install Debian package postgresql (test/setup-peers.sh)`)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-pg-'))
  const asRoot = userInfo().uid === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const as = async (command: string, args: string[]): Promise<void> => {
    if (asRoot) await run('runuser', ['-u', 'postgres', '--', join(pgBin, command), ...args], { timeout: 60_000 })
    else await run(join(pgBin, command), args, { timeout: 60_000 })
  }
  const data = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')
  const port = await freePort()
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const start = async (): Promise<void> => {
    try {
      await as('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start'])
    } catch (err) {
      throw new Error(`postgres did not start: ${(err as Error).message}\n${tailFile(logFile)}`)
    }
  }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pause: async () => { await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) },
    resume: start,
    async stop () {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
