/// Scanwall's ICAP server: icap-server-lite configured from the node's configuration, answering
/// with Scanwall's handler (scan + policy), counted in the node's metrics. node.ts calls this.
import { IcapError, IcapServer, ServiceTable, type IcapServerOptions } from 'icap-server-lite'
import type { BodySource } from '../scan/body.js'
import type { ScanService } from '../scan/service.js'
import type { PolicyHolder } from '../policy/policy-set.js'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import { ScanwallError } from '../errors.js'
import { ScanwallIcapHandler } from './handler.js'
import { observeIcap, type TransactionLog } from './observe.js'
import type { Recorder } from '../records/recorder.js'
import type { UploadCheck } from '../content-filter/upload.js'
import type { Quarantine } from '../quarantine/keeper.js'

export const serverName = 'Scanwall/0.1'
/// The header that names the node that answered (icap.nodeHeader).
export const nodeHeader = 'X-Scanwall-Node'

/// The settings of config `icap` the server takes, with the node's and the scan's.
export type ScanwallIcapOptions = Omit<IcapServerOptions, 'maxBodyBytes' | 'serverName' | 'answerHeaders'> & {
  readonly nodeId: string
  /// X-Scanwall-Node on every answer.
  readonly nodeHeader: boolean
  /// scan.maxObjectBytes: larger bodies are not scanned (the policy decides them).
  readonly maxObjectBytes: number
  readonly blockTemplate: string
  /// log.transactions: which transactions get the one log line (default all).
  readonly logTransactions?: TransactionLog
}

export interface ScanwallIcapDeps {
  readonly scan: ScanService
  readonly policy: PolicyHolder
  readonly metrics: Metrics
  readonly log: Logger
  readonly recorder?: Recorder
  readonly quarantine?: Quarantine
  readonly uploads?: UploadCheck
}

/// The package's configuration errors as Scanwall's, the key named (the start command prints those
/// as one line). `key`: the config key, when the package's message does not name one.
function asConfigError (err: unknown, key?: string): unknown {
  if (!(err instanceof IcapError) || err.code !== 'ICAP_CONFIG_INVALID') return err
  const reason = err.message.replace(/^[^:]*: /, '')
  return new ScanwallError('CONFIG_INVALID', key === undefined ? reason : `${key}: ${reason}`)
}

/// The service table for icap.services, and the paths offered per local address (split clusters),
/// checked at start: an unknown path is a configuration error naming its key.
export function offeredServices (services: readonly string[], lists: Parameters<ServiceTable['offeredAt']>[0]): Map<string, readonly string[]> {
  let table: ServiceTable
  try {
    table = new ServiceTable(services)
  } catch (err) {
    throw asConfigError(err, 'icap.services')
  }
  try {
    return table.offeredAt(lists)
  } catch (err) {
    throw asConfigError(err)
  }
}

export function createIcapServer (options: ScanwallIcapOptions, deps: ScanwallIcapDeps): IcapServer<BodySource> {
  const { logTransactions, ...serverOptions } = options
  const handler = new ScanwallIcapHandler({
    scan: deps.scan,
    policy: deps.policy,
    nodeId: options.nodeId,
    blockTemplate: options.blockTemplate,
    ...(deps.recorder === undefined ? {} : { recorder: deps.recorder }),
    ...(deps.uploads === undefined ? {} : { uploads: deps.uploads }),
    ...(deps.quarantine === undefined ? {} : { quarantine: deps.quarantine }),
  })
  let server: IcapServer<BodySource>
  try {
    server = new IcapServer({
      ...serverOptions,
      maxBodyBytes: options.maxObjectBytes,
      serverName,
      answerHeaders: options.nodeHeader ? [[nodeHeader, options.nodeId]] : [],
    }, handler, deps.log)
  } catch (err) {
    throw asConfigError(err, 'icap.services')
  }
  observeIcap(server, deps.metrics, deps.log, logTransactions)
  return server
}
