/// A private Postfix instance for tests (Debian's postfix, `postfix -c DIR start`, no postmulti):
/// its own config directory, queue directory and data directory under a temp dir, listening on
/// loopback ports only, relaying everything to an SMTP sink. Two smtpd listeners: `smtpPort` with
/// the milter (mail is judged while the client waits), and `relayPort` without it, whose mail goes
/// through the content filter smtp:[127.0.0.1]:smtpPort, so a deferral from the milter leaves the
/// message in this instance's deferred queue (`flush()` retries it). Needs root (Postfix drops to
/// its `postfix` user). The system instance is never touched.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { userInfo } from 'node:os'

const run = promisify(execFile)

export interface PostfixOptions {
  readonly dir: string
  readonly smtpPort: number
  readonly relayPort: number
  readonly sinkPort: number
  /// `inet:127.0.0.1:PORT` or `unix:/path`.
  readonly milter: string
  readonly extraMain?: readonly string[]
  /// More master.cf lines (e.g. further smtpd listeners with their own `-o smtpd_milters=`).
  readonly extraMaster?: readonly string[]
  /// Run the instance inside this network namespace (`ip netns exec`): its loopback is the namespace's.
  readonly netns?: string
}

export interface QueuedMessage { readonly queue_name: string, readonly queue_id: string, readonly sender: string, readonly recipients: ReadonlyArray<{ readonly address: string, readonly delay_reason?: string }> }

const services = [
  'pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr', 'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify',
  'flush unix n - n 1000? 0 flush', 'proxymap unix - - n - - proxymap', 'smtp unix - - n - - smtp', 'relay unix - - n - - smtp',
  'showq unix n - n - - showq', 'error unix - - n - - error', 'retry unix - - n - - error', 'discard unix - - n - - discard',
  'anvil unix - - n - 1 anvil', 'scache unix - - n - 1 scache', 'postlog unix-dgram n - n - 1 postlogd',
]

export class Postfix {
  readonly options: PostfixOptions
  readonly configDir: string
  readonly logFile: string

  private constructor (options: PostfixOptions) {
    this.options = options
    this.configDir = join(options.dir, 'etc')
    this.logFile = join(options.dir, 'postfix.log')
  }

  static async start (options: PostfixOptions): Promise<Postfix> {
    if (!existsSync('/usr/sbin/postfix')) throw new Error('/usr/sbin/postfix missing: install Debian package postfix (test/setup-peers.sh)')
    if (userInfo().uid !== 0) throw new Error('the Postfix tests need root (Postfix runs its daemons as user postfix)')
    const p = new Postfix(options)
    const d = options.dir
    for (const sub of ['etc', 'spool', 'data']) mkdirSync(join(d, sub), { recursive: true })
    const postfixUser = Number((await run('id', ['-u', 'postfix'])).stdout.trim())
    chownSync(join(d, 'data'), postfixUser, 0)
    writeFileSync(join(d, 'etc', 'main.cf'), [
      'compatibility_level = 3.6',
      `queue_directory = ${d}/spool`,
      `data_directory = ${d}/data`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = mx.scanwall.test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      `relayhost = [127.0.0.1]:${options.sinkPort}`,
      'smtp_dns_support_level = disabled',
      'alias_maps =',
      'alias_database =',
      'smtpd_relay_restrictions = permit_mynetworks, reject',
      `maillog_file = ${p.logFile}`,
      `maillog_file_prefixes = ${d}`,
      `smtpd_milters = ${options.milter}`,
      'non_smtpd_milters =',
      'milter_protocol = 6',
      'milter_default_action = tempfail',
      // Retries come from flush() in the tests, not from the clock.
      'queue_run_delay = 3600s',
      'minimal_backoff_time = 3600s',
      'maximal_backoff_time = 3600s',
      ...(options.extraMain ?? []),
    ].join('\n') + '\n')
    writeFileSync(join(d, 'etc', 'master.cf'), [
      `127.0.0.1:${options.smtpPort} inet n - n - - smtpd`,
      `127.0.0.1:${options.relayPort} inet n - n - - smtpd -o smtpd_milters= -o content_filter=smtp:[127.0.0.1]:${options.smtpPort}`,
      ...services,
      ...(options.extraMaster ?? []),
    ].join('\n') + '\n')
    await p.#postfix('start')
    return p
  }

  async #postfix (...args: string[]): Promise<string> {
    try {
      const command = ['/usr/sbin/postfix', '-c', this.configDir, ...args]
      const { stdout, stderr } = this.options.netns === undefined
        ? await run(command[0] ?? '', command.slice(1), { timeout: 60_000 })
        : await run('ip', ['netns', 'exec', this.options.netns, ...command], { timeout: 60_000 })
      return stdout + stderr
    } catch (err) {
      throw new Error(`postfix ${args.join(' ')} failed: ${(err as Error).message}\n${this.log().split('\n').slice(-15).join('\n')}`)
    }
  }

  /// The master daemon's pid (its children, and the CPU of those it reaped, are Postfix's work).
  get masterPid (): number { return Number(readFileSync(join(this.options.dir, 'spool', 'pid', 'master.pid'), 'utf8').trim()) }

  log (): string { return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '' }

  /// The log once it holds `pattern`, or as it is after `timeoutMs` (for the caller's assertion to
  /// show). Lines go through postlogd, a datagram socket away from the daemon that writes them, so a
  /// reply can reach the client before its log line reaches the file.
  async logMatching (pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const text = this.log()
      if (pattern.test(text) || Date.now() >= until) return text
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  /// The queue (postqueue -j): one object per message, with the queue it is in (hold, deferred, active…).
  async queue (): Promise<QueuedMessage[]> {
    const { stdout } = await run('/usr/sbin/postqueue', ['-c', this.configDir, '-j'], { timeout: 30_000 })
    return stdout.trim() === '' ? [] : stdout.trim().split('\n').map(l => JSON.parse(l) as QueuedMessage)
  }

  /// Retries every deferred message now.
  async flush (): Promise<void> { await run('/usr/sbin/postqueue', ['-c', this.configDir, '-f'], { timeout: 30_000 }) }

  async stop (): Promise<void> { await this.#postfix('stop').catch(() => {}) }
}

export interface SwaksResult { readonly code: number, readonly output: string }

/// Sends the message in `dataFile` with swaks; the exit code says where it stopped (0 delivered,
/// 23/24/25: a 4xx/5xx to MAIL, RCPT or DATA). `extra`: more swaks options (e.g. `--xclient-addr`).
export async function swaks (port: number, from: string, to: string, dataFile: string, extra: readonly string[] = []): Promise<SwaksResult> {
  if (!existsSync('/usr/bin/swaks')) throw new Error('/usr/bin/swaks missing: install Debian package swaks (test/setup-peers.sh)')
  return await new Promise(resolve => {
    execFile('/usr/bin/swaks', ['--server', '127.0.0.1', '--port', String(port), '--from', from, '--to', to, '--data', dataFile, '--hide-informational', ...extra],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, output: stdout + stderr })
      })
  })
}
