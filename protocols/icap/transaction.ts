/// One ICAP transaction's state: who asked, for which service, how many body bytes came, where they
/// went (the handler's body store), and how it ended. The connection feeds it parser events;
/// answer.ts asks the handler and turns its answer into a response.
import type { IcapContext } from './context.js'
import type { BodyWriter, IcapAnswer, IcapTransactionInfo } from './handler.js'
import type { TrickleEcho } from './trickle.js'
import type { TransactionRecord } from './events.js'
import type { IcapService } from './services.js'
import { declaredLength, httpUrl, type IcapRequest } from './request.js'

/// Squid's virgin-body pipe holds 64 KiB minus one byte: a RESPMOD that stops right there, without
/// its last chunk, is Squid bug 5352 (SQUID-NOTES §1c), not a slow origin.
export const squidPipeBytes = 65_535

export interface Rejection { readonly status: number, readonly message: string }

export class Transaction {
  readonly request: IcapRequest
  readonly startedAt = performance.now()
  readonly service: IcapService | undefined
  readonly rejection: Rejection | undefined
  readonly url: string
  readonly clientIp: string | undefined
  readonly user: string | undefined
  /// Aborts when the client goes away. The connection hands in its own: it runs one transaction at
  /// a time and every abort ends it, and a controller per transaction was ~5 % of the CPU of a
  /// 4 KiB request (issue #10).
  readonly controller: AbortController
  readonly declared: number | undefined
  readonly remote: string
  readonly local: string
  writer: BodyWriter<unknown> | undefined
  bodyBytes = 0
  /// More body than maxBodyBytes (declared or received): the handler is told so.
  overLimit = false
  /// 100 Continue went out: the answer is outside the preview.
  continued = false
  /// The body ended with ieof inside the preview.
  endedInPreview = false
  lastBodyAt = 0
  stallWarned = false
  /// Bytes handed to the spool file and not yet written (bounded by pausing the socket).
  spoolBacklog = 0
  status = 0
  outcome: TransactionRecord['outcome'] = 'answered'
  /// The handler's answer from the headers alone (IcapHandler.early): the body is not kept.
  readonly early: IcapAnswer<unknown> | undefined
  /// The streaming echo, in trickle mode.
  trickle: TrickleEcho | undefined
  /// Preview bytes, kept while a trickle may still start (they are the first bytes it echoes).
  readonly previewData: Buffer[] = []
  previewDataBytes = 0
  /// What the handler answered, once it has.
  answer: IcapAnswer<unknown> | undefined
  finished = false

  /// `local`: the address the client connected to (a cluster instance's virtual address).
  constructor (request: IcapRequest, ctx: IcapContext, remote: string, local: string, controller = new AbortController()) {
    this.request = request
    this.controller = controller
    this.remote = remote
    this.local = local
    const found = ctx.services.lookup(request.service, request.method, ctx.options.servicesAt?.get(local))
    this.service = found.ok ? found.service : undefined
    this.rejection = found.ok ? undefined : { status: found.status, message: found.message }
    this.url = httpUrl(request)
    const h = request.headers
    this.clientIp = h.get('x-client-ip')
    this.user = h.get('x-authenticated-user') ?? h.get('x-client-username')
    this.declared = declaredLength(request)
    if (this.declared !== undefined && this.declared > ctx.options.maxBodyBytes) this.overLimit = true
    const early = ctx.handler.early
    this.early = early !== undefined && this.service !== undefined && request.method !== 'OPTIONS' ? early.call(ctx.handler, this.info(ctx, this.service)) : undefined
  }

  /// Whether trickle mode can apply: a RESPMOD body still to come whose clean answer would be a 200
  /// echo (no 204 or 206 possible once the rest follows), with a handler that offers it.
  mayTrickle (ctx: IcapContext): boolean {
    return ctx.handler.trickle !== undefined && this.request.method === 'RESPMOD' && this.hasBody && this.service !== undefined &&
      this.rejection === undefined && this.early === undefined && !this.overLimit && !this.request.allow204
  }

  get hasBody (): boolean {
    const body = this.request.encapsulated.body
    return body === 'req-body' || body === 'res-body'
  }

  /// Whether the body must be kept at all: not for rejected or OPTIONS requests, nor for a body over
  /// the limit that no echo can need (the client takes 204, or it is answered inside its preview).
  wantsBody (): boolean {
    if (this.rejection !== undefined || this.early !== undefined || this.request.method === 'OPTIONS' || !this.hasBody) return false
    return !this.overLimit || !this.may204
  }

  /// A clean object may be answered 204 when the client sent Allow: 204 (RFC 3507 §4.6), and always
  /// as the answer to a preview, before any 100 Continue (§4.5: a client that sends a preview must
  /// accept 204 for it; Squid's ModXact treats every preview as 204-capable).
  get may204 (): boolean {
    return this.request.allow204 || (this.request.preview !== undefined && !this.continued)
  }

  /// 206 (Squid's partial-content extension) with `0; use-original-body=0`, in place of 100 Continue:
  /// as the answer to a preview that did not end with ieof, when the client sent Allow: 206. Squid
  /// 5.7 rejects a 206 after ieof or after 100 Continue unless it also offered 204
  /// (handle206PartialContent's Must(state.allowedPostview206)); there 204 serves the same purpose.
  may206 (ctx: IcapContext): boolean {
    if (!ctx.options.allow206 || !this.request.allow206 || !this.hasBody) return false
    return this.request.preview !== undefined && !this.continued && !this.endedInPreview
  }

  get ms (): number { return Math.round((performance.now() - this.startedAt) * 100) / 100 }

  /// What the handler is told (only for transactions with a service).
  info (ctx: IcapContext, service: NonNullable<Transaction['service']>): IcapTransactionInfo {
    return {
      request: this.request,
      service,
      url: this.url,
      clientIp: this.clientIp,
      user: this.user,
      remote: this.remote,
      local: this.local,
      echoNeeded: this.trickle === undefined && this.hasBody && !(this.may204 || this.may206(ctx)),
      trickled: this.trickle !== undefined,
    }
  }

  record (): TransactionRecord {
    const answer = this.answer
    return {
      method: this.request.method,
      service: this.request.service,
      primary: this.service?.primary,
      client: this.clientIp ?? this.remote,
      user: this.user,
      url: this.url,
      bytes: this.bodyBytes,
      status: this.status,
      outcome: this.outcome,
      answer: answer?.kind,
      verdict: this.outcome === 'aborted' ? 'aborted' : answer?.verdict ?? '-',
      threat: answer?.kind === 'replace' ? answer.threat : undefined,
      ms: this.ms,
    }
  }
}
