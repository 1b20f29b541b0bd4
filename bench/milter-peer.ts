/// The mail cell's peer: Debian's clamav-milter (libmilter, one thread per MTA connection) with its
/// own config file on a loopback port or a unix socket, asking a clamd started for the cell (bench/clamav-peer.ts,
/// the same DB as Scanwall) over its unix socket, one INSTREAM per message. Set up as Scanwall's
/// milter is: infected mail rejected, clean mail accepted with X-Virus-Scanned/X-Virus-Status
/// (copies from outside replaced), defer when the scanner fails.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { Clamd } from './clamav-peer.js'
import { waitForPort, waitForUnixSocket } from '../test/helpers/ports.js'

/// Where the milter listens: a loopback TCP port, or a unix socket path.
export type MilterEndpoint = { readonly port: number } | { readonly path: string }

/// The endpoint as Postfix's smtpd_milters names it.
export function postfixMilter (endpoint: MilterEndpoint): string {
  return 'path' in endpoint ? `unix:${endpoint.path}` : `inet:127.0.0.1:${endpoint.port}`
}

export class ClamavMilter {
  readonly endpoint: MilterEndpoint
  readonly clamd: Clamd
  readonly #proc: ChildProcess

  private constructor (endpoint: MilterEndpoint, clamd: Clamd, proc: ChildProcess) {
    this.endpoint = endpoint
    this.clamd = clamd
    this.#proc = proc
  }

  /// The pids whose CPU is the peer's: clamav-milter and clamd.
  get pids (): number[] { return [this.#proc.pid ?? 0, this.clamd.pid ?? 0].filter(p => p > 0) }

  static async start (stateDir: string, dbDir: string, endpoint: MilterEndpoint): Promise<ClamavMilter> {
    if (!existsSync('/usr/sbin/clamav-milter')) throw new Error('/usr/sbin/clamav-milter missing: install Debian package clamav-milter (test/setup-peers.sh)')
    mkdirSync(join(stateDir, 'tmp'), { recursive: true })
    const { clamd } = await Clamd.start(join(stateDir, 'clamd'), dbDir)
    const conf = join(stateDir, 'clamav-milter.conf')
    const log = join(stateDir, 'clamav-milter.log')
    writeFileSync(conf, [
      // Postfix's daemons run as user postfix: the socket must be open to them.
      'path' in endpoint ? `MilterSocket unix:${endpoint.path}\nMilterSocketMode 666` : `MilterSocket inet:${endpoint.port}@127.0.0.1`, 'Foreground yes', `ClamdSocket unix:${join(stateDir, 'clamd', 'clamd.sock')}`,
      `TemporaryDirectory ${join(stateDir, 'tmp')}`, 'OnClean Accept', 'OnInfected Reject', 'OnFail Defer', 'AddHeader Replace',
      'MaxFileSize 100M', 'ReadTimeout 300', `LogFile ${log}`, 'LogInfected Basic', '',
    ].join('\n'))
    const proc = spawn('/usr/sbin/clamav-milter', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const milter = new ClamavMilter(endpoint, clamd, proc)
    try {
      const alive = (): boolean => proc.exitCode === null
      if ('path' in endpoint) await waitForUnixSocket(endpoint.path, 60_000, alive)
      else await waitForPort('127.0.0.1', endpoint.port, 60_000, alive)
    } catch (err) {
      milter.stop()
      throw new Error(`clamav-milter did not listen on ${postfixMilter(endpoint)}: ${(err as Error).message}; ${stderr.trim()} ${existsSync(log) ? readFileSync(log, 'utf8').slice(-500) : ''}`)
    }
    return milter
  }

  stop (): void {
    if (this.#proc.exitCode === null) this.#proc.kill('SIGTERM')
    this.clamd.stop()
  }
}
