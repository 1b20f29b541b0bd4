/// What an IcapServer reports as it runs (its EventEmitter's events): one record per transaction,
/// connections coming and going or refused, requests it could not read, and Squid's stall. An
/// application turns these into its logs and counters; the server keeps no counters of its own.
import type { IcapErrorCode } from './errors.js'
import type { ParseFailure } from './parser.js'

export interface TransactionRecord {
  readonly method: string
  /// The service path the client asked for, and the primary service it stands for (undefined when
  /// the path is unknown).
  readonly service: string
  readonly primary: string | undefined
  /// X-Client-IP when sent, else the peer address.
  readonly client: string
  readonly user: string | undefined
  readonly url: string
  /// Body bytes received.
  readonly bytes: number
  /// The ICAP status answered (0: none).
  readonly status: number
  /// `partially-blocked`: a trickled echo (IcapHandler.trickle) cut because the answer was not allow.
  readonly outcome: 'answered' | 'aborted' | 'error' | 'partially-blocked'
  /// What the handler answered; undefined when it was not asked (OPTIONS, 404/405, or the
  /// transaction ended before its body was complete).
  readonly answer: 'allow' | 'replace' | 'error' | 'abort' | undefined
  /// The handler's labels ('aborted' for an aborted transaction, '-' when there are none).
  readonly verdict: string
  readonly threat: string | undefined
  readonly ms: number
}

export interface IcapServerEvents {
  transaction: [TransactionRecord]
  /// A connection was accepted (`reusedReads`: it reads into the server's reused buffer) / has closed.
  open: [{ readonly remote: string, readonly local: string, readonly reusedReads: boolean }]
  close: [{ readonly remote: string, readonly local: string }]
  /// A connection was answered 503 at accept (ICAP_TOO_MANY_CONNECTIONS or ICAP_DRAINING).
  refused: [{ readonly code: IcapErrorCode, readonly remote: string }]
  /// A connection from an address the `admit` option refused, closed before a byte was read.
  denied: [{ readonly remote: string, readonly local: string }]
  /// An icaps:// client failed the handshake or its certificate was refused (closed, never read).
  tlsRefused: [{ readonly remote: string, readonly reason: string }]
  /// A request could not be read; it was answered `failure.status` and its connection closed.
  protocolError: [{ readonly failure: ParseFailure, readonly remote: string }]
  /// A RESPMOD body stopped right at Squid's 64 KiB pipe size (Squid bug 5352).
  stall: [{ readonly url: string, readonly bytes: number, readonly client: string }]
}
