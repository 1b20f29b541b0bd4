/// Helpers for tests that talk to the SNMP agent with Debian's net-snmp tools (snmpget, snmpwalk,
/// snmptrapd) and check the MIB with smilint. A missing tool fails the suite loudly.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/// The shipped MIB's folder (in the source tree: dist/ holds no .txt) and the SMIv2 base modules
/// (SNMPv2-SMI/TC/CONF) that net-snmp (npm) ships; Debian's copies are in non-free.
export const ourMibDir = fileURLToPath(new URL('../../../protocols/snmp/mib', import.meta.url))
export const baseMibDir = join(dirname(createRequire(import.meta.url).resolve('net-snmp')), 'lib', 'mibs')
export const mibArgs = ['-m', '+SCANWALL-MIB', '-M', `+${ourMibDir}:${baseMibDir}`]

export interface RunResult { code: number | null, stdout: string, stderr: string }

export async function run (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${cmd} is not installed: run test/setup-peers.sh (Debian packages snmp, snmptrapd, smitools)`))
        return
      }
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

export interface V3Credentials { user: string, auth: 'SHA' | 'SHA-256' | 'SHA-512', authKey: string, priv: 'AES', privKey: string, level?: 'authPriv' | 'authNoPriv' }

export function v3Args (c: V3Credentials): string[] {
  const level = c.level ?? 'authPriv'
  const base = ['-v3', '-l', level, '-u', c.user, '-a', c.auth, '-A', c.authKey]
  return level === 'authPriv' ? [...base, '-x', c.priv, '-X', c.privKey] : base
}

/// snmpget/snmpwalk. Requests expected to succeed get time to spare on a loaded machine; those
/// expected to be refused pass `expectRefusal` so that waiting for no answer stays short.
export async function snmp (tool: 'snmpget' | 'snmpwalk' | 'snmpbulkwalk', auth: string[], target: string, oids: string[], expectRefusal = false): Promise<RunResult> {
  const timing = expectRefusal ? ['-t', '1', '-r', '0'] : ['-t', '3', '-r', '2']
  return await run(tool, [...auth, ...mibArgs, ...timing, target, ...oids])
}

/// Parses "SCANWALL-MIB::name.idx = TYPE: value" lines into a name.idx → value map (value text only).
export function parseVarbinds (stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const m = /^SCANWALL-MIB::(\S+) = (?:[\w-]+: )?(.*)$/.exec(line)
    if (m?.[1] !== undefined) out.set(m[1], m[2] ?? '')
  }
  return out
}

/// The leading number of a value such as "Counter64: 12 bytes" or "active(2)" → 12 / 2.
export function num (value: string | undefined): number {
  const m = /\((\d+)\)$/.exec(value ?? '') ?? /^(\d+)/.exec(value ?? '')
  if (m?.[1] === undefined) throw new Error(`not a number: ${value}`)
  return Number(m[1])
}

export async function freeUdpPort (): Promise<number> {
  const s = createSocket('udp4')
  s.bind(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

export async function freeTcpPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

/// A Debian daemon (snmptrapd, snmpd) in the foreground, logging to a file in its own temp dir.
export class LoggedDaemon {
  readonly #child: ChildProcess
  readonly #log: string
  #stderr = ''

  private constructor (child: ChildProcess, log: string) {
    this.#child = child
    this.#log = log
    child.stderr?.on('data', (chunk: Buffer) => { this.#stderr += chunk.toString() })
  }

  /// Starts `cmd` with `conf` as its only configuration file (inside network namespace `netns` when
  /// given), and waits for its start banner.
  static async start (cmd: 'snmptrapd' | 'snmpd', dir: string, conf: readonly string[], args: readonly string[], netns?: string): Promise<LoggedDaemon> {
    const confFile = join(dir, `${cmd}.conf`)
    const log = join(dir, `${cmd}.log`)
    await writeFile(confFile, conf.join('\n') + '\n')
    await writeFile(log, '')
    const argv = [cmd, '-f', '-C', '-c', confFile, '-Lf', log, '-p', join(dir, `${cmd}.pid`), ...args]
    // `ip netns exec` execs the daemon itself: the child is still the daemon (stop() signals it).
    const [file, ...rest] = netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv]
    const child = spawn(file!, rest, {
      env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir, `${cmd}-persist`) },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([err]) => { throw new Error(`${cmd} did not start (is it installed? test/setup-peers.sh): ${String(err)}`) })])
    const daemon = new LoggedDaemon(child, log)
    await daemon.waitFor(/NET-SNMP version/, 10_000)
    return daemon
  }

  /// Waits until `count` log lines match; returns the matching lines.
  async waitFor (pattern: RegExp, timeoutMs = 10_000, count = 1): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = await readFile(this.#log, 'utf8')
      const hits = text.split('\n').filter(line => pattern.test(line))
      if (hits.length >= count) return hits
      if (this.#child.exitCode !== null) throw new Error(`daemon exited (${this.#child.exitCode}): ${this.#stderr.slice(-500)} ${text.slice(-500)}`)
      if (Date.now() > deadline) throw new Error(`no ${pattern} in the daemon log within ${timeoutMs} ms:\n${text.slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  async lines (pattern: RegExp): Promise<string[]> {
    return (await readFile(this.#log, 'utf8')).split('\n').filter(line => pattern.test(line))
  }

  async stop (): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = once(this.#child, 'exit')
    this.#child.kill('SIGTERM')
    await exited
  }
}

/// snmptrapd on a free loopback UDP port, one "TRAP <security>|<varbinds>" line per notification.
export async function startSnmptrapd (dir: string, conf: readonly string[]): Promise<{ port: number, daemon: LoggedDaemon }> {
  const port = await freeUdpPort()
  const daemon = await LoggedDaemon.start('snmptrapd', dir, conf, [...mibArgs, '-F', 'TRAP %P|%v\n', `udp:127.0.0.1:${port}`])
  return { port, daemon }
}
