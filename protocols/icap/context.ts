/// What every connection of one server shares: settings, services, the responder, the handler and
/// the event sink. Built once by server.ts; connections only read it (plus the drain flag).
import type { TlsOptions } from 'node:tls'
import type { ServiceTable } from './services.js'
import type { Responder } from './respond.js'
import type { OptionsSettings } from './options.js'
import type { ParserLimits } from './parser.js'
import type { SpoolGate } from './spool-gate.js'
import type { HeaderField, IcapHandler, IcapLogger } from './handler.js'
import type { IcapServerEvents } from './events.js'

export interface IcapServerOptions {
  readonly host: string
  readonly port: number
  /// More ports on the same host serving the same services (e.g. the ports of cluster instances).
  readonly extraPorts?: readonly number[]
  /// The service paths offered on a local address (see ServiceTable.offeredAt). An address not
  /// listed offers every service; a path not offered there is a 404.
  readonly servicesAt?: ReadonlyMap<string, readonly string[]>
  /// Service paths: the first is the primary, the rest aliases; `name:RESPMOD` limits the methods.
  readonly services: readonly string[]
  readonly maxConnections: number
  /// Who may connect: asked with each new connection's remote address; false closes it at accept,
  /// before a byte is read (reported as `denied`). Absent: everyone.
  readonly admit?: ((remote: string) => boolean) | undefined
  /// An ICAP-over-TLS listener (icaps://) on its own port, same host, services and limits.
  readonly tls?: IcapTlsOptions | undefined
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
  /// Bodies larger than this reach the handler marked overLimit, and are kept only when an echo may
  /// need them; a body that declares a larger Content-Length is decided inside its preview.
  readonly maxBodyBytes: number
  /// `Server:` and the OPTIONS `Service:` prefix.
  readonly serverName?: string
  /// Header lines added to every answer (after Connection), e.g. the name of the node that answered.
  readonly answerHeaders?: readonly HeaderField[]
  /// Plain connections read into one buffer the server reuses (reused-reads.ts); false: a fresh
  /// Buffer per read ('data' events), e.g. to compare the two or to rule the reused buffer out.
  /// Default true.
  readonly reusedReads?: boolean
}

export interface IcapTlsOptions {
  readonly port: number
  /// node:tls server options: at least `key` and `cert`; `ca` to verify client certificates.
  readonly options: TlsOptions
  /// Client certificates: not asked for (`none`); asked for, and one that is presented must verify
  /// against `ca`, but a client without one is served (`optional`); required and verified
  /// (`require`). A client refused here is closed before any ICAP byte is read.
  readonly clientCertificates: 'none' | 'optional' | 'require'
}

export interface IcapContext {
  readonly options: IcapServerOptions
  readonly handler: IcapHandler<unknown>
  readonly log: IcapLogger
  readonly emit: <K extends keyof IcapServerEvents>(event: K, ...args: IcapServerEvents[K]) => void
  readonly services: ServiceTable
  readonly responder: Responder
  readonly optionsSettings: OptionsSettings
  readonly limits: ParserLimits
  /// Shared bound on body bytes queued for spool files across all connections.
  readonly spoolGate: SpoolGate
  /// The buffer every plain connection of the server reads into (reused-reads.ts): connections run
  /// on one thread and use a read's bytes before the next read. Undefined: reusedReads is off.
  readonly readBuffer: Buffer | undefined
  /// Whether connections made to this local address are draining (drain()/close()): their answers
  /// say `Connection: close` from then on.
  isDraining (local: string): boolean
}
