/// What every connection of one server shares: settings, services, the responder and the injected
/// dependencies. Built once by server.ts; connections only read it (plus the drain flag).
import type { ScanService } from '../../src/scan/service.js'
import type { Profile } from '../../src/policy/decide.js'
import type { Metrics } from '../../src/metrics.js'
import type { Logger } from '../../src/log.js'
import type { ServiceTable } from './services.js'
import type { Responder } from './respond.js'
import type { OptionsSettings } from './options.js'
import type { ParserLimits } from './parser.js'
import type { SpoolGate } from './spool-gate.js'

export interface IcapServerOptions {
  readonly host: string
  readonly port: number
  /// More ports on the same host serving the same services (e.g. the ports of cluster instances).
  readonly extraPorts?: readonly number[]
  /// Split per-service clusters: the service paths offered on a local address (an instance's
  /// virtual address). An address not listed offers every service; a path not offered is a 404.
  readonly servicesAt?: ReadonlyMap<string, readonly string[]>
  readonly nodeId: string
  readonly services: readonly string[]
  readonly maxConnections: number
  readonly previewBytes: number
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
  readonly optionsTtlSeconds: number
  readonly allow206: boolean
  readonly idleTimeoutMs: number
  readonly headerTimeoutMs: number
  /// Quiet time allowed inside a request body before the transaction is aborted (0: no limit).
  readonly bodyTimeoutMs: number
  readonly bodyStallWarnMs: number
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  readonly maxObjectBytes: number
  readonly oversize: 'block' | 'allow'
  readonly blockTemplate: string
}

export interface IcapDeps {
  readonly scan: ScanService
  readonly profile: Profile
  readonly metrics: Metrics
  readonly log: Logger
}

export interface IcapContext {
  readonly options: IcapServerOptions
  readonly deps: IcapDeps
  readonly services: ServiceTable
  readonly responder: Responder
  readonly optionsSettings: OptionsSettings
  readonly limits: ParserLimits
  /// Shared bound on body bytes queued for spool files across all connections.
  readonly spoolGate: SpoolGate
  /// Whether connections made to this local address are draining (drain()/close()): their answers
  /// say `Connection: close` from then on.
  isDraining (local: string): boolean
}
