/// What every clamd connection shares: the server's options, the handler, the logger and the way
/// to report events; built once by the server.
import type { ClamdHandler, ClamdLogger } from './handler.js'
import type { ClamdParserLimits } from './parser.js'
import type { LocalScanOptions } from './local-scan.js'
import type { ClamdServerEvents } from './events.js'

export interface ClamdTimeouts {
  /// A command must be complete this long after the connection opens (clamd's CommandReadTimeout).
  readonly commandReadMs: number
  /// An INSTREAM that receives nothing this long is given up (clamd's ReadTimeout).
  readonly readMs: number
  /// An IDSESSION waiting this long for its next command is closed (clamd's IdleTimeout).
  readonly idleMs: number
}

export interface ClamdServerOptions {
  /// TCP listener: host and port (port undefined: no TCP listener; 0: any free port).
  readonly host: string
  readonly port: number | undefined
  /// Extra TCP ports on the same host (a cluster instance's ports).
  readonly extraPorts?: readonly number[]
  /// Unix socket path (undefined: none).
  readonly socket: string | undefined
  readonly maxConnections: number
  /// Who may connect over TCP: asked with each new TCP connection's remote address; false closes it
  /// at accept, before a byte is read (reported as `denied`). Absent: everyone. The unix socket is
  /// guarded by its file mode.
  readonly admit?: ((remote: string) => boolean) | undefined
  readonly limits: ClamdParserLimits
  readonly timeouts: ClamdTimeouts
  /// SCAN/CONTSCAN/MULTISCAN/ALLMATCHSCAN: undefined when local path scans are off.
  readonly localScan: LocalScanOptions | undefined
  readonly allowShutdown: boolean
  /// Replies a session may have outstanding before the connection stops reading more commands.
  readonly maxPendingPerSession?: number
}

export interface ClamdContext {
  readonly options: ClamdServerOptions
  readonly handler: ClamdHandler
  readonly log: ClamdLogger
  readonly emit: <K extends keyof ClamdServerEvents>(event: K, ...args: ClamdServerEvents[K]) => void
}
