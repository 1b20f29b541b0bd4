/// Scanwall's ICAP handler: what icap-server-lite asks of the application, answered with the scan
/// service and the policy. Bodies go to the scan service's sinks (memory, spooled past the limit);
/// each REQMOD/RESPMOD body is scanned with its context, the policy decides, and the decision becomes
/// an answer: unchanged (204/206/200 echo, the package picks), the block page, or the error code's
/// ICAP status. A body over scan.maxObjectBytes is not scanned: the scan service calls it a `limit`
/// and the policy decides it like any other (profile.blockOversize, from scan.oversize).
import { allowAnswer, blockAnswer, istagFor, type BodyStore, type IcapAnswer, type IcapHandler, type IcapTransactionInfo, type ReceivedBody } from 'icap-server-lite'
import { readSource, releaseSource, type BodySource } from '../scan/body.js'
import type { ScanService } from '../scan/service.js'
import type { ScanBody, ScanContext } from '../scan/input.js'
import { decide, type Profile } from '../policy/decide.js'
import { renderBlockPage } from '../policy/block-page.js'
import { icapStatusOf } from '../errors.js'
import { noRecorder, type Recorder } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { uploadDecision, type UploadCheck } from '../content-filter/upload.js'

export interface ScanwallHandlerDeps {
  readonly scan: ScanService
  readonly profile: Profile
  readonly nodeId: string
  readonly blockTemplate: string
  /// The decision database (src/records); absent: nothing is recorded.
  readonly recorder?: Recorder
  /// Blocked objects kept (src/quarantine); absent: quarantine off.
  readonly quarantine?: Quarantine
  /// The outgoing content filter for REQMOD uploads (src/content-filter); absent: off.
  readonly uploads?: UploadCheck
}

/// The scan's context from an ICAP transaction: the service path, the method, the end client and
/// user as Squid sends them, the URL, and the header fields of the HTTP message whose body it is.
/// The header map is built on first read: nothing on the scan path reads it today, and building it
/// for every transaction was a measurable part of a 4 KiB request's CPU (issue #10's gate).
export function scanContext (tx: IcapTransactionInfo): ScanContext {
  let headers: Record<string, string> | undefined
  return {
    service: tx.service.name,
    method: tx.request.method,
    client: tx.clientIp ?? tx.remote,
    ...(tx.user === undefined ? {} : { user: tx.user }),
    url: tx.url,
    get headers (): Record<string, string> {
      headers ??= headerMap(tx)
      return headers
    },
  }
}

function headerMap (tx: IcapTransactionInfo): Record<string, string> {
  const part = tx.request.method === 'REQMOD' ? tx.request.reqHdr : tx.request.resHdr
  const headers: Record<string, string> = {}
  for (const [name, value] of part?.parsed.headers.entries() ?? []) {
    const key = name.toLowerCase()
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
  }
  return headers
}

export class ScanwallIcapHandler implements IcapHandler<BodySource> {
  readonly bodies: BodyStore<BodySource>
  readonly #deps: ScanwallHandlerDeps
  #istagVersion: string | undefined
  #istag = ''

  constructor (deps: ScanwallHandlerDeps) {
    this.#deps = deps
    this.bodies = { open: size => deps.scan.openSink(size), read: readSource, release: releaseSource }
  }

  /// Follows the signature set: a reload changes it, so caches drop objects judged by the old set.
  istag (): string {
    const version = this.#deps.scan.dbVersion
    if (version !== this.#istagVersion) {
      this.#istagVersion = version
      this.#istag = istagFor(version, 'SW')
    }
    return this.#istag
  }

  async respond (tx: IcapTransactionInfo, body: ReceivedBody<BodySource> | undefined, signal: AbortSignal): Promise<IcapAnswer<BodySource>> {
    if (body === undefined) return allowAnswer(undefined, 'no-body')
    const input: ScanBody = body.overLimit || body.stored === undefined
      ? { kind: 'oversize', size: body.size, kept: body.stored }
      : body.stored
    const context = scanContext(tx)
    const quarantine = this.#deps.quarantine
    // A quarantine needs the body after the scan too.
    const keepBody = tx.echoNeeded || (quarantine?.wants(context.service) ?? false) || (this.#deps.uploads !== undefined && context.method === 'REQMOD')
    const outcome = await this.#deps.scan.scan(input, context, signal, { keepBody })
    const { verdict } = outcome
    const decision = await uploadDecision(this.#deps.uploads, outcome.body, context, decide(verdict, this.#deps.profile), signal)
    const kept = decision.action === 'block' && quarantine !== undefined && outcome.body !== undefined
      ? await quarantine.keep(outcome.body, verdict, decision, context)
      : undefined
    ;(this.#deps.recorder ?? noRecorder).record({ verdict, decision, context, bytes: body.size, ...(kept === undefined ? {} : { quarantine: kept }) })
    // The body handed back goes to the server to echo (it releases it); any other is ours to free.
    const echo = decision.action === 'allow' && tx.echoNeeded ? outcome.body : undefined
    if (outcome.body !== undefined && outcome.body !== echo && outcome.body !== body.stored) await releaseSource(outcome.body)
    if (body.stored !== undefined && body.stored !== echo) await releaseSource(body.stored)
    switch (decision.action) {
      case 'allow':
        return allowAnswer(echo, verdict.status)
      case 'block': {
        const page = renderBlockPage(this.#deps.blockTemplate, { threat: decision.threat, url: tx.url, node: this.#deps.nodeId, service: tx.service.name })
        return blockAnswer(decision.threat, Buffer.from(page, 'utf8'), verdict.status)
      }
      case 'fail':
        if (decision.code === 'SCAN_ABORTED') return { kind: 'abort', verdict: 'aborted' }
        return { kind: 'error', status: icapStatusOf(decision.code), verdict: verdict.status }
    }
  }
}
