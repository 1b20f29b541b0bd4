/// The seam between the clamd protocol and the application: what the server asks (scan a stream,
/// scan a file, the version line, reload, shut down, statistics) and the logger it writes to. The
/// package decides framing, sessions, paths and replies; the handler decides what an object is.
import type { ScanReply, StatsSnapshot } from './replies.js'

/// Who asked, for the application's scan context and logs.
export interface ClamdRequestInfo {
  /// The command as sent (INSTREAM, SCAN, CONTSCAN …).
  readonly command: string
  /// The peer (`unix` for the unix socket).
  readonly remote: string
  /// The listener the connection came in on (`tcp` or `unix`).
  readonly listener: 'tcp' | 'unix'
}

/// An INSTREAM body being received: bytes are written as chunks arrive (a returned promise asks the
/// connection to stop reading until it settles: back-pressure from a spool disk), then either
/// scanned or thrown away.
export interface StreamBody {
  write (bytes: Uint8Array): Promise<void> | undefined
  scan (signal: AbortSignal): Promise<ScanReply>
  discard (): Promise<void>
}

export interface ClamdHandler {
  /// The VERSION line: `ClamAV <engine>/<db version>/<db date>`.
  version (): string
  openStream (info: ClamdRequestInfo): StreamBody
  /// Scans one regular file the server has checked is under an allowed directory. `allMatch`:
  /// report every match (ALLMATCHSCAN).
  scanFile (path: string, info: ClamdRequestInfo, signal: AbortSignal, allMatch: boolean): Promise<ScanReply>
  /// RELOAD: start reloading the signatures (the reply does not wait for it).
  reload (): void
  /// SHUTDOWN/QUIT was accepted (clamd.allowShutdown): stop the process.
  shutdown (): void
  stats (): StatsSnapshot
}

/// pino's call shape, as the ICAP package takes it.
export interface ClamdLogger {
  debug (obj: object, msg?: string): void
  info (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
}

export const silentLogger: ClamdLogger = { debug () {}, info () {}, warn () {} }
