/// Scanwall's clamd server: the clamd protocol package configured from config `clamd`, answering
/// with Scanwall's handler (scan + the clamd listener's policy profile), counted in the node's
/// metrics. node.ts calls this; undefined when neither a TCP port nor a unix socket is configured.
import { allowPredicate } from '../../config/networks.js'
import { realpath } from 'node:fs/promises'
import { ClamdServer } from '../../protocols/clamd/index.js'
import { listenerPlacement } from '../../protocols/common/placement.js'
import type { ScanService } from '../scan/service.js'
import type { PolicyHolder } from '../policy/policy-set.js'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import type { ConfigTree } from '../../config/load.js'
import { ScanwallError, errorMessage } from '../errors.js'
import { ScanwallClamdHandler } from './handler.js'
import { observeClamd } from './observe.js'
import type { Recorder } from '../records/recorder.js'

/// clamd reads a command into a buffer of about this size: a path plus the command name fits.
const maxCommandBytes = 8192

export interface ScanwallClamdDeps {
  readonly scan: ScanService
  readonly metrics: Metrics
  readonly log: Logger
  readonly version: string
  /// The policy in force (the clamd listener's profile is clamd.profile).
  readonly policy: PolicyHolder
  readonly maxObjectBytes: number
  /// Extra TCP ports: the ports of cluster instances that offer clamd.
  readonly extraPorts: readonly number[]
  readonly shutdown: () => void
  /// The decision database every listener records to (absent: stats off).
  readonly recorder?: Recorder
}

/// The allowed directories of local scans resolved once, before anything starts (undefined: local
/// scans off); none listed, or a missing one, is a configuration error naming the key.
export async function clamdLocalRoots (config: ConfigTree['clamd']): Promise<string[] | undefined> {
  const local = config.localScan
  if (!local.enabled) return undefined
  if (local.dirs.length === 0) throw new ScanwallError('CONFIG_INVALID', 'clamd.localScan.dirs must list at least one directory when clamd.localScan.enabled is true')
  return await Promise.all(local.dirs.map(async (dir, i) => await realpath(dir).catch((err: unknown) => {
    throw new ScanwallError('CONFIG_INVALID', `clamd.localScan.dirs[${i}] ${JSON.stringify(dir)}: ${errorMessage(err)}`)
  })))
}

/// `roots`: from clamdLocalRoots.
export function createClamdServer (config: ConfigTree['clamd'], roots: readonly string[] | undefined, deps: ScanwallClamdDeps): ClamdServer | undefined {
  const placement = listenerPlacement(config.port, config.socket, deps.extraPorts)
  if (placement === undefined) return undefined
  const handler = new ScanwallClamdHandler({
    scan: deps.scan,
    policy: deps.policy,
    maxObjectBytes: deps.maxObjectBytes,
    engine: `Scanwall-${deps.version}`,
    reload: () => { deps.scan.reload().catch(() => {}) }, // a failed reload is logged and keeps the old DB
    shutdown: deps.shutdown,
    ...(deps.recorder === undefined ? {} : { recorder: deps.recorder }),
  })
  const server = new ClamdServer({
    host: config.host,
    ...placement,
    maxConnections: config.maxConnections,
    admit: allowPredicate(config.allow),
    limits: { maxCommandBytes, streamMaxBytes: config.streamMaxBytes },
    timeouts: { commandReadMs: config.commandReadTimeoutMs, readMs: config.readTimeoutMs, idleMs: config.idleTimeoutMs },
    localScan: roots === undefined ? undefined : { roots, concurrency: config.localScan.concurrency },
    allowShutdown: config.allowShutdown,
  }, handler, deps.log)
  observeClamd(server, deps.metrics, deps.log)
  return server
}
