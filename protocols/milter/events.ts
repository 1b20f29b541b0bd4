/// What a MilterServer reports as it runs (its EventEmitter's events): connections coming, going
/// and refused, messages aborted by the MTA, and input it could not read. The adapter turns these
/// into logs and counters (it logs each message itself, knowing the verdict).

export interface MilterServerEvents {
  open: [{ readonly remote: string, readonly listener: 'tcp' | 'unix' }]
  close: [{ readonly remote: string, readonly listener: 'tcp' | 'unix' }]
  /// A TCP connection from an address the `admit` option refused, closed before a byte was read.
  denied: [{ readonly remote: string }]
  /// A connection past maxConnections (or while draining) was closed at accept.
  refused: [{ readonly remote: string }]
  /// The MTA dropped a message before its end (abort, quit, or the connection went away).
  aborted: [{ readonly remote: string }]
  /// A packet could not be read (over the limit, unknown command, bad data) or the connection
  /// stayed silent past its timeout: the connection was closed.
  protocolError: [{ readonly reason: string, readonly remote: string }]
}
