/// What a ClamdServer reports as it runs (its EventEmitter's events): one record per command
/// answered, connections coming, going and refused, and requests it could not read. The adapter
/// turns these into logs and counters; the server keeps none of its own.

export interface CommandRecord {
  /// The command (INSTREAM, SCAN …; `UNKNOWN` for one clamd does not know).
  readonly command: string
  readonly remote: string
  readonly listener: 'tcp' | 'unix'
  /// INSTREAM bytes received.
  readonly bytes: number
  /// What the reply said: ok, found, error, or '-' for commands that scan nothing.
  readonly result: 'ok' | 'found' | 'error' | '-'
  /// The first threat named, when found.
  readonly threat: string | undefined
  readonly ms: number
}

export interface ClamdServerEvents {
  command: [CommandRecord]
  open: [{ readonly remote: string, readonly listener: 'tcp' | 'unix' }]
  close: [{ readonly remote: string, readonly listener: 'tcp' | 'unix' }]
  /// A TCP connection from an address the `admit` option refused, closed before a byte was read.
  denied: [{ readonly remote: string }]
  /// A connection past maxConnections was closed at accept.
  refused: [{ readonly remote: string }]
  /// A request could not be read (timeout, overlong line, stream over the limit, bad framing).
  protocolError: [{ readonly reason: string, readonly remote: string }]
}
