/// The seam between the protocol and the application: what the server asks of whoever decides
/// (the handler), where bodies are kept (a body store), and the answers a handler may give.
/// The server owns framing, previews, timeouts and the choice between 204, 206 and a 200 echo; the
/// handler owns the verdict. Nothing here knows what a scan or a policy is.
import type { IcapRequest } from './request.js'
import type { IcapService } from './services.js'

/// Collects one body as it arrives. `write` returns a promise only while the bytes wait for slow
/// storage (a spool file): the server pauses the socket past its share of the write budget.
/// `chunk` is a view of the server's read buffer, valid only during the call (reused-reads.ts): a
/// store that keeps bytes past it (a queued file write) copies them.
export interface BodyWriter<B> {
  write (chunk: Buffer): Promise<void> | undefined
  /// The body is complete: the stored form, owned by the caller from here.
  finish (): Promise<B>
  /// Drop whatever was collected.
  discard (): Promise<void>
}

/// Where bodies go while they arrive and how a stored body is read back for an echo.
export interface BodyStore<B> {
  /// `expectedSize`: the encapsulated Content-Length, when the message declares one.
  open (expectedSize: number | undefined): BodyWriter<B>
  /// The bytes of a stored body: all at once, or as a stream the server destroys when done.
  read (body: B): Uint8Array | (AsyncIterable<Uint8Array> & { destroy: () => void })
  /// Frees a stored body (a spool file's unlink). Called once for every body the server echoed.
  release (body: B): Promise<void>
}

/// What the handler is told about one REQMOD/RESPMOD transaction.
export interface IcapTransactionInfo {
  readonly request: IcapRequest
  readonly service: IcapService
  /// The encapsulated HTTP request's URL (absolute, or built from Host), '-' when there is none.
  readonly url: string
  /// X-Client-IP, when the client sent it.
  readonly clientIp: string | undefined
  /// X-Authenticated-User or X-Client-Username, when the client sent one.
  readonly user: string | undefined
  /// The peer's address and the local address it connected to.
  readonly remote: string
  readonly local: string
  /// An `allow` answer must hand the body back (`allow.body`): neither 204 nor 206 can be sent, so
  /// the original body is echoed in a 200.
  readonly echoNeeded: boolean
  /// The 200 echo has been streaming while the body arrived (the handler's `trickle`): an `allow`
  /// sends the held-back tail; any other answer cuts the connection (the client's copy is truncated).
  readonly trickled: boolean
}

/// Trickle mode for one transaction: how many of the last body bytes wait for the verdict.
export interface TricklePlan {
  readonly holdBackBytes: number
}

/// The body of a transaction as the handler gets it.
export interface ReceivedBody<B> {
  /// Bytes received; for a body answered inside its preview because it declared itself over the
  /// limit, the declared size.
  readonly size: number
  /// Larger than the server's maxBodyBytes. The handler decides what that means.
  readonly overLimit: boolean
  /// The stored bytes; undefined when over the limit and not needed for an echo. The handler owns
  /// them: it releases them, or returns them in an `allow` answer for the server to echo and release.
  readonly stored: B | undefined
}

/// A header line of an ICAP answer: name and value (printable ASCII; others become '?').
export type HeaderField = readonly [name: string, value: string]

/// The HTTP response that replaces the original message (REQMOD and RESPMOD alike).
export interface HttpReply {
  readonly status: number
  readonly reason: string
  readonly headers: readonly HeaderField[]
  readonly body: Uint8Array
}

/// What the handler decided. `verdict` and `threat` are labels for the transaction record (logs).
export type IcapAnswer<B> =
  /// The message passes unchanged: 206 / 204 / 200 echo, whichever the client allows. `body` is the
  /// stored body to echo when the transaction said echoNeeded.
  | { readonly kind: 'allow', readonly body?: B | undefined, readonly verdict?: string }
  /// 200 with a new HTTP response in place of the message, plus ICAP header lines.
  | { readonly kind: 'replace', readonly http: HttpReply, readonly icapHeaders?: readonly HeaderField[], readonly verdict?: string, readonly threat?: string }
  /// No answer about the content: an ICAP error status (e.g. 503 overloaded).
  | { readonly kind: 'error', readonly status: number, readonly verdict?: string }
  /// The transaction was cancelled (the client went away): no answer, the connection closes.
  | { readonly kind: 'abort', readonly verdict?: string }

export interface IcapHandler<B> {
  readonly bodies: BodyStore<B>
  /// The current ISTag value, quoted (RFC 3507 §4.7); see istagFor().
  istag (): string
  /// Decides one REQMOD/RESPMOD transaction once its body is in (`body` undefined: the message has
  /// none). `signal` aborts when the client goes away; it is the connection's, shared by the
  /// transactions it carries one after another, so remove any listener added to it once answered.
  /// A throw is answered with statusOfError(err).
  respond (tx: IcapTransactionInfo, body: ReceivedBody<B> | undefined, signal: AbortSignal): Promise<IcapAnswer<B>>
  /// Optional: an answer from the headers alone (e.g. a URL blocked a moment ago), asked once per
  /// REQMOD/RESPMOD when its headers are in. An answer here is given inside the preview (or after
  /// the body, which is then skipped, not stored) and `respond` is not called.
  early? (tx: IcapTransactionInfo): IcapAnswer<B> | undefined
  /// Optional trickle mode (leaks a prefix: opt in per request). Asked for a RESPMOD whose clean
  /// answer would be a 200 echo, once the rest of its body is coming (after 100 Continue, or at once
  /// without a preview). A plan makes the server answer 200 at once and echo the body as it arrives,
  /// holding back the last `holdBackBytes` until `respond` decides (`tx.trickled`).
  trickle? (tx: IcapTransactionInfo): TricklePlan | undefined
  /// Optional: the Transfer-Preview / -Ignore / -Complete lists (RFC 3507 §4.10.2) of one service's
  /// OPTIONS answer, asked at every OPTIONS so an application can choose them per service and change
  /// them at run time; absent (or undefined): the server's own settings.
  transferLists? (service: IcapService): TransferLists | undefined
}

/// File extensions ("*": all; empty: the header is omitted) a client should preview, not send, or send whole.
export interface TransferLists {
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
}

/// The logger the server writes to: pino's call shape (an object, then a message).
export interface IcapLogger {
  debug (obj: object, msg: string): void
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

const nothing = (): void => {}
export const silentLogger: IcapLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing }
