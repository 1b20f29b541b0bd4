/// The seam between the milter protocol and the application: what the connection asks (a verdict
/// at MAIL FROM, a body sink for each message, its final answer), what it tells (the envelope and
/// the message's headers and size) and the logger it writes to. The package decides framing,
/// negotiation, which steps are answered and the order of replies; the handler decides what a
/// message is worth.
import type { ConnectFamily } from './parser.js'
import type { Modification, VerdictReply } from './replies.js'

/// What the MTA told about the SMTP session and the message so far.
export interface MilterEnvelope {
  /// The MTA's end of the milter connection (`unix` for the unix socket).
  readonly remote: string
  readonly listener: 'tcp' | 'unix'
  /// The SMTP client, from CONNECT (undefined when the MTA did not send it).
  readonly client: { readonly hostname: string, readonly family: ConnectFamily, readonly address: string, readonly port: number } | undefined
  readonly helo: string | undefined
  /// MAIL FROM as sent (angle brackets included; `<>` for bounces) and its ESMTP arguments.
  readonly sender: string | undefined
  readonly senderArgs: readonly string[]
  /// RCPT TO addresses in order.
  readonly recipients: readonly string[]
  /// Every macro the MTA sent for this connection and message (later ones win), names without
  /// braces: `i` (queue id), `auth_authen`, `client_addr`, `j` …
  readonly macros: ReadonlyMap<string, string>
}

export interface HeaderField { readonly name: string, readonly value: string }

/// The message as received, handed over with the end of message.
export interface MessageSummary {
  /// Bytes of the message (headers, blank line, body) as the MTA sent them.
  readonly size: number
  /// The header fields in order (at most the header limit of them).
  readonly headers: readonly HeaderField[]
  /// Set when the message went past a limit: its bytes past it were not written to the body.
  readonly overLimit: 'size' | 'headers' | undefined
}

/// The answer to a message: modifications first, then the verdict.
export interface MilterAnswer {
  readonly verdict: VerdictReply
  readonly modifications?: readonly Modification[]
}

/// One message's bytes as they arrive (a returned promise asks the connection to stop reading
/// until it settles), then judged or thrown away (abort, connection lost).
export interface MessageBody {
  write (bytes: Uint8Array): Promise<void> | undefined
  finish (envelope: MilterEnvelope, message: MessageSummary, signal: AbortSignal): Promise<MilterAnswer>
  discard (): Promise<void>
}

export interface MilterHandler {
  /// At MAIL FROM: a verdict for the whole message now (accept: skip it; reject or tempfail), or
  /// undefined to see it.
  mail (envelope: MilterEnvelope): VerdictReply | undefined
  /// The message's body sink, opened at its first header.
  openMessage (envelope: MilterEnvelope): MessageBody
}

/// pino's call shape, as the other protocol packages take it.
export interface MilterLogger {
  debug (obj: object, msg?: string): void
  info (obj: object, msg?: string): void
  warn (obj: object, msg?: string): void
}

export const silentLogger: MilterLogger = { debug () {}, info () {}, warn () {} }
