/// The reference peer, c-icap + virus_scan + clamd, started with the shared peer harness scripts
/// (../shared/peers: start-clamd.sh, start-cicap.sh) into a private state dir on a free port, and
/// stopped with their stop scripts (by recorded PID). Used by the benchmark and, on request, by the
/// Squid suite to prove the harness against a known-good ICAP server.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { repoRoot } from './scanwall-node.js'
import { freePort } from './ports.js'

const execFileAsync = promisify(execFile)

/// Where the peer harness lives unless the caller says otherwise: beside the checkout, as in /work.
export const defaultPeersDir = resolve(repoRoot, '..', 'shared', 'peers')

export interface CicapPeer {
  readonly host: string
  readonly port: number
  readonly service: string
  readonly stateDir: string
  /// PIDs of clamd and the c-icap parent, for memory sampling.
  readonly clamdPid: number
  readonly cicapPid: number
  stop (): Promise<void>
}

export interface CicapPeerOptions {
  readonly peersDir: string
  readonly stateDir: string
  readonly dbKind: 'test' | 'big'
  /// virus_scan.SendPercentData: 0 holds the whole object until the verdict (the bench setting).
  readonly sendPercent?: number
}

export async function startCicapPeer (options: CicapPeerOptions): Promise<CicapPeer> {
  if (!existsSync(join(options.peersDir, 'start-cicap.sh'))) {
    throw new Error(`peer harness not found in ${options.peersDir} (set SCANWALL_PEERS_DIR)`)
  }
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STATE_DIR: options.stateDir,
    ICAP_PORT: String(port),
    DB_KIND: options.dbKind,
    SEND_PERCENT: String(options.sendPercent ?? 0),
    SEND_AFTER: '100M',
  }
  const run = async (script: string): Promise<string> => {
    try {
      const { stdout } = await execFileAsync('bash', [join(options.peersDir, script)], { env, timeout: 120_000 })
      return stdout
    } catch (err) {
      const e = err as { stderr?: string, stdout?: string, message: string }
      throw new Error(`${script} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  }
  const stop = async (): Promise<void> => {
    await run('stop-cicap.sh').catch(() => '')
    await run('stop-clamd.sh').catch(() => '')
  }
  try {
    await run('start-clamd.sh')
    await run('start-cicap.sh')
  } catch (err) {
    await stop()
    throw err
  }
  const pidOf = (name: string): number => Number(readFileSync(join(options.stateDir, name, 'run.pid'), 'latin1').trim())
  return { host: '127.0.0.1', port, service: 'virus_scan', stateDir: options.stateDir, clamdPid: pidOf('clamd'), cicapPid: pidOf('c-icap'), stop }
}
