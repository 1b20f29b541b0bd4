/// Helpers for tests that talk to the SNMP agent with Debian's net-snmp tools (snmpget, snmpwalk,
/// snmptrapd) and check the MIB with smilint. A missing tool fails the suite loudly.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
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

/// snmpget/snmpwalk with short time-outs (a refused request must not stall the suite).
export async function snmp (tool: 'snmpget' | 'snmpwalk' | 'snmpbulkwalk', auth: string[], target: string, oids: string[]): Promise<RunResult> {
  return await run(tool, [...auth, ...mibArgs, '-t', '1', '-r', '0', target, ...oids])
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

/// A real snmptrapd on a loopback port, logging one line per notification to a file.
export class Snmptrapd {
  readonly port: number
  readonly #child: ChildProcess
  readonly #log: string
  #stderr = ''

  private constructor (port: number, child: ChildProcess, log: string) {
    this.port = port
    this.#child = child
    this.#log = log
    child.stderr?.on('data', (chunk: Buffer) => { this.#stderr += chunk.toString() })
  }

  /// `conf`: snmptrapd.conf lines (createUser, authUser, authCommunity).
  static async start (dir: string, conf: readonly string[]): Promise<Snmptrapd> {
    const port = await freeUdpPort()
    const confFile = join(dir, 'snmptrapd.conf')
    const log = join(dir, 'traps.log')
    await writeFile(confFile, conf.join('\n') + '\n')
    await writeFile(log, '')
    const args = ['-f', '-C', '-c', confFile, '-Lf', log, ...mibArgs, '-F', 'TRAP %P|%v\n', '-p', join(dir, 'snmptrapd.pid'), `udp:127.0.0.1:${port}`]
    const child = spawn('snmptrapd', args, { env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir, 'persist') }, stdio: ['ignore', 'ignore', 'pipe'] })
    const spawned = await Promise.race([once(child, 'spawn').then(() => true), once(child, 'error').then(([err]) => { throw new Error(`snmptrapd did not start: ${String(err)}`) })])
    void spawned
    const trapd = new Snmptrapd(port, child, log)
    // Ready once it logs its start banner.
    await trapd.waitFor(/NET-SNMP version/, 10_000)
    return trapd
  }

  async lines (): Promise<string[]> {
    return (await readFile(this.#log, 'utf8')).split('\n').filter(line => line.startsWith('TRAP '))
  }

  /// Waits until the log matches; returns the matching trap lines.
  async waitFor (pattern: RegExp, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = await readFile(this.#log, 'utf8')
      const hits = text.split('\n').filter(line => pattern.test(line))
      if (hits.length > 0) return hits
      if (this.#child.exitCode !== null) throw new Error(`snmptrapd exited (${this.#child.exitCode}): ${this.#stderr.slice(-500)}`)
      if (Date.now() > deadline) throw new Error(`no ${pattern} in snmptrapd log within ${timeoutMs} ms:\n${text.slice(-2000)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  async stop (): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = once(this.#child, 'exit')
    this.#child.kill('SIGTERM')
    await exited
  }
}
