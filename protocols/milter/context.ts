/// What every milter connection shares: the server's options, the handler, the logger and the way to
/// report events; built once by the server.
import type { MilterHandler, MilterLogger } from './handler.js'
import type { MacroStageName } from './constants.js'
import type { MilterServerEvents } from './events.js'

export interface MilterLimits {
  /// Largest packet accepted (its length field); a larger one closes the connection.
  readonly maxPacketBytes: number
  /// Header fields kept per message; past it the message is over its limit (`headers`).
  readonly maxHeaders: number
  /// Message bytes written to the body; past it the message is over its limit (`size`).
  readonly maxMessageBytes: number
}

export interface MilterServerOptions {
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
  readonly limits: MilterLimits
  /// A connection that sends nothing this long is closed (libmilter's timeout).
  readonly idleTimeoutMs: number
  /// While a message is being judged, a progress packet goes out this often, so the MTA's content
  /// timeout (Postfix: 300 s) never runs out during a long scan.
  readonly progressMs: number
  /// Whether MAIL FROM is answered, so the handler's mail() can give a verdict for the whole message
  /// there (skip lists). false: the MTA is told no answer comes (NR_MAIL: a round trip saved per
  /// message) and mail() is not asked. Default true.
  readonly mailVerdicts?: boolean
  /// Macros asked for in the negotiation reply, per stage.
  readonly macros: Partial<Record<MacroStageName, readonly string[]>>
}

export interface MilterContext {
  readonly options: MilterServerOptions
  readonly handler: MilterHandler
  readonly log: MilterLogger
  readonly emit: <K extends keyof MilterServerEvents>(event: K, ...args: MilterServerEvents[K]) => void
}
