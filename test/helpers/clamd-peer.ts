/// The two clamd-protocol servers the clamd suites compare: a real clamd (own clamd.conf in a temp
/// dir, TCP on a free loopback port and a LocalSocket, foreground, stopped by its PID) and a
/// Scanwall node with its clamd listener on the same kind of endpoints, both loading the same small
/// DB (Scanwall's bundled EICAR signatures plus a few test signatures written here), so their
/// replies can be compared byte for byte. clamdscan needs a clamd.conf naming the endpoint:
/// clientConf() writes one.
import { connect } from 'node:net'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Daemon } from './daemon.js'
import { freePort } from './ports.js'
import { requireProgram } from './peers.js'
import { repoRoot, startScanwallNode, type ScanwallNode } from './scanwall-node.js'

export interface ClamdEndpoint {
  readonly name: 'clamd' | 'scanwall'
  readonly host: string
  readonly port: number
  readonly socket: string
  readonly daemon: Daemon
}

/// A test file whose MD5 is a signature of the test DB (besides EICAR): found as `Scanwall.Test.Hash`.
export const hashSample = Buffer.from('scanwall clamd test sample: hash signature\n')
/// Bytes an .ndb signature of the test DB finds anywhere: `Scanwall.Test.Body`.
export const bodyMarker = Buffer.from('SCANWALL-CLAMD-BODY-MARKER')

export interface SharedSetup {
  /// StreamMaxLength on both (bytes).
  readonly streamMaxBytes: number
  /// Seconds: CommandReadTimeout, ReadTimeout, IdleTimeout on both.
  readonly commandReadTimeout: number
  readonly readTimeout: number
  readonly idleTimeout: number
  /// The directory both may scan locally.
  readonly scanDir: string
}

export const defaultSetup = (scanDir: string): SharedSetup => ({ streamMaxBytes: 1024 * 1024, commandReadTimeout: 5, readTimeout: 5, idleTimeout: 5, scanDir })

/// The test DB: Scanwall's bundled files and one .hdb and one .ndb signature more.
export function writeTestDb (dir: string): void {
  mkdirSync(dir, { recursive: true })
  for (const name of ['scanwall.hdb', 'scanwall.ndb']) copyFileSync(join(repoRoot, 'signatures', name), join(dir, name))
  writeFileSync(join(dir, 'test.hdb'), `${createHash('md5').update(hashSample).digest('hex')}:${hashSample.length}:Scanwall.Test.Hash\n`)
  writeFileSync(join(dir, 'test.ndb'), `Scanwall.Test.Body:0:*:${bodyMarker.toString('hex')}\n`)
}

async function ping (target: { host: string, port: number }): Promise<boolean> {
  return await new Promise(resolve => {
    const c = connect(target.port, target.host)
    let got = ''
    c.on('connect', () => c.end('zPING\0'))
    c.on('data', d => { got += d.toString() })
    c.on('close', () => { resolve(got.startsWith('PONG')) })
    c.on('error', () => { resolve(false) })
    c.setTimeout(2000, () => c.destroy())
  })
}

async function waitForPong (target: { host: string, port: number }, daemon: Daemon, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (!daemon.alive) throw new Error(`${what} exited:\n${daemon.tail()}`)
    if (await ping(target)) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what} did not answer PING within 60 s:\n${daemon.tail()}`)
}

/// A real clamd on dbDir with the shared settings.
export async function startClamd (dir: string, dbDir: string, setup: SharedSetup): Promise<ClamdEndpoint> {
  requireProgram('clamd')
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  const host = '127.0.0.1'
  const port = await freePort()
  const socket = join(dir, 'clamd.sock')
  const conf = join(dir, 'clamd.conf')
  writeFileSync(conf, [
    'Foreground yes', `TCPSocket ${port}`, `TCPAddr ${host}`, `LocalSocket ${socket}`, 'FixStaleSocket yes',
    `DatabaseDirectory ${dbDir}`, `TemporaryDirectory ${join(dir, 'tmp')}`, `LogFile ${join(dir, 'clamd.log')}`,
    'SelfCheck 0', 'Bytecode no', 'MaxThreads 4', 'MaxConnectionQueueLength 300',
    `StreamMaxLength ${setup.streamMaxBytes}`, `CommandReadTimeout ${setup.commandReadTimeout}`,
    `ReadTimeout ${setup.readTimeout}`, `IdleTimeout ${setup.idleTimeout}`, '',
  ].join('\n'))
  const daemon = new Daemon('clamd', 'clamd', [`--config-file=${conf}`, '--foreground'], { logFile: join(dir, 'clamd.out') })
  await waitForPong({ host, port }, daemon, 'clamd')
  return { name: 'clamd', host, port, socket, daemon }
}

/// A Scanwall node with clamd on TCP and a unix socket, local scans allowed under setup.scanDir.
export async function startScanwallClamd (dir: string, dbDir: string, setup: SharedSetup, clamd: Record<string, unknown> = {}): Promise<ClamdEndpoint & { readonly node: ScanwallNode }> {
  mkdirSync(dir, { recursive: true })
  const host = '127.0.0.1'
  const port = await freePort()
  const socket = join(dir, 'scanwall-clamd.sock')
  const config = join(dir, 'scanwall.json')
  writeFileSync(config, JSON.stringify({
    snmp: { enabled: false },
    scan: { workers: 2 },
    clamd: {
      host,
      port,
      socket,
      maxConnections: 400,
      streamMaxBytes: setup.streamMaxBytes,
      commandReadTimeoutMs: setup.commandReadTimeout * 1000,
      readTimeoutMs: setup.readTimeout * 1000,
      idleTimeoutMs: setup.idleTimeout * 1000,
      localScan: { enabled: true, dirs: [setup.scanDir] },
      ...clamd,
    },
  }))
  const node = await startScanwallNode({ dir, signaturesDir: dbDir, args: ['--config', config], env: { SCANWALL_CLAMD_PORT: String(port), SCANWALL_LOG_LEVEL: 'warn' } })
  await waitForPong({ host, port }, node.daemon, 'scanwall')
  return { name: 'scanwall', host, port, socket, daemon: node.daemon, node }
}

/// A clamd.conf for clamdscan reaching `target` over TCP or its unix socket.
export function clientConf (dir: string, target: ClamdEndpoint, via: 'tcp' | 'unix'): string {
  const file = join(dir, `clamdscan-${target.name}-${via}.conf`)
  writeFileSync(file, via === 'tcp' ? `TCPSocket ${target.port}\nTCPAddr ${target.host}\n` : `LocalSocket ${target.socket}\n`)
  return file
}
