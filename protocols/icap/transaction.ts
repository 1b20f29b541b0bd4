/// One ICAP transaction's state: who asked, for which service, how many body bytes came, where they
/// went (a BodySink that spools past its memory limit), and how it ended. The connection feeds it
/// parser events; answer.ts turns it into a response.
import type { BodySink } from '../../src/scan/body.js'
import type { IcapContext } from './context.js'
import type { IcapService } from './services.js'
import { declaredLength, httpUrl, type IcapRequest } from './request.js'

/// Squid's virgin-body pipe holds 64 KiB minus one byte: a RESPMOD that stops right there, without
/// its last chunk, is Squid bug 5352 (SQUID-NOTES §1c), not a slow origin.
export const squidPipeBytes = 65_535

export interface Rejection { readonly status: 404 | 405, readonly message: string }

export class Transaction {
  readonly request: IcapRequest
  readonly startedAt = performance.now()
  readonly service: IcapService | undefined
  readonly rejection: Rejection | undefined
  readonly url: string
  readonly clientIp: string | undefined
  readonly user: string | undefined
  readonly controller = new AbortController()
  readonly declared: number | undefined
  sink: BodySink | undefined
  bodyBytes = 0
  /// More body than scan.maxObjectBytes: not scanned; answered per scan.oversize.
  oversize = false
  /// 100 Continue went out: the answer is outside the preview.
  continued = false
  /// The body ended with ieof inside the preview.
  endedInPreview = false
  lastBodyAt = 0
  stallWarned = false
  /// Bytes handed to the spool file and not yet written (bounded by pausing the socket).
  spoolBacklog = 0
  status = 0
  verdict = '-'
  threat: string | undefined
  outcome: 'answered' | 'aborted' | 'error' = 'answered'
  /// What the answer did with the object: passed it (204/206/200 echo) or blocked it.
  action: 'allow' | 'block' | undefined
  finished = false

  /// `local`: the address the client connected to (a cluster instance's virtual address).
  constructor (request: IcapRequest, ctx: IcapContext, local: string) {
    this.request = request
    const found = ctx.services.lookup(request.service, request.method, ctx.options.servicesAt?.get(local))
    this.service = found.ok ? found.service : undefined
    this.rejection = found.ok ? undefined : { status: found.status, message: found.message }
    this.url = httpUrl(request)
    const h = request.headers
    this.clientIp = h.get('x-client-ip')
    this.user = h.get('x-authenticated-user') ?? h.get('x-client-username')
    this.declared = declaredLength(request)
    if (this.declared !== undefined && this.declared > ctx.options.maxObjectBytes) this.oversize = true
  }

  get hasBody (): boolean {
    const body = this.request.encapsulated.body
    return body === 'req-body' || body === 'res-body'
  }

  /// Whether the body must be kept at all: not for rejected, OPTIONS, or oversize objects that will
  /// not be echoed.
  wantsBody (ctx: IcapContext): boolean {
    if (this.rejection !== undefined || this.request.method === 'OPTIONS' || !this.hasBody) return false
    if (!this.oversize) return true
    return ctx.options.oversize === 'allow' && !this.request.allow204
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
}
