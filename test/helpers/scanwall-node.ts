/// Starts a real Scanwall node the way an operator does (`node dist/src/cli/main.js start`), as a child
/// process configured only through its documented environment names, on a free loopback port.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { Daemon } from './daemon.js'
import { freePort, waitForPort } from './ports.js'

/// The repository root, from dist/test/helpers/ (compiled) or test/helpers/ (source); both are 2 deep.
export const repoRoot = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url))
export const cliMain = join(repoRoot, 'dist', 'src', 'cli', 'main.js')

export interface ScanwallNode {
  readonly host: string
  readonly port: number
  readonly service: string
  readonly daemon: Daemon
}

export interface ScanwallNodeOptions {
  readonly dir: string
  readonly signaturesDir?: string
  /// Extra SCANWALL_* variables (log level, workers …).
  readonly env?: Readonly<Record<string, string>>
  readonly startTimeoutMs?: number
  /// Arguments after `start` (e.g. `--config FILE`).
  readonly args?: readonly string[]
}

export async function startScanwallNode (options: ScanwallNodeOptions): Promise<ScanwallNode> {
  const host = '127.0.0.1'
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SCANWALL_ICAP_HOST: host,
    SCANWALL_ICAP_PORT: String(port),
    SCANWALL_SPOOL_DIR: join(options.dir, 'spool'),
    // Each test node its own decision database, never the system's /var/lib/scanwall.
    SCANWALL_STATS_PATH: join(options.dir, 'records.sqlite'),
    SCANWALL_NODE_ID: `test-${process.pid}`,
    // No clamd or milter listener on the default 3310/7357 unless a suite asks for one (suites run side by side).
    SCANWALL_CLAMD_PORT: '0',
    SCANWALL_MILTER_PORT: '0',
    // No management console on the default 8443 unless a suite asks for one.
    SCANWALL_CONSOLE_PORT: '0',
    ...(options.signaturesDir === undefined ? {} : { SCANWALL_SIGNATURES_DIR: options.signaturesDir }),
    ...options.env,
  }
  const daemon = new Daemon('scanwall', process.execPath, [cliMain, 'start', ...(options.args ?? [])], { env, cwd: repoRoot, logFile: join(options.dir, 'scanwall.log') })
  try {
    await waitForPort(host, port, options.startTimeoutMs ?? 30_000, () => daemon.alive)
  } catch (err) {
    await daemon.stop(1000)
    throw new Error(`scanwall did not start: ${(err as Error).message}\n${daemon.tail()}`)
  }
  return { host, port, service: 'avscan', daemon }
}
