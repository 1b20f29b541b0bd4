/// Scanwall's ICAP handler: what icap-server-lite asks of the application, answered with the scan
/// service and the policy. Bodies go to the scan service's sinks (memory, spooled past the limit);
/// each REQMOD/RESPMOD body is scanned with its context, the policy decides, and the decision becomes
/// an answer: unchanged (204/206/200 echo, the package picks), the block page, or the error code's
/// ICAP status. With the profile's trickle mode, a RESPMOD download streams while it arrives and a
/// block cuts it (`partially-blocked`); its URL is then refused at once for a while (its retry). A body over scan.maxObjectBytes is not scanned: the scan service calls it a `limit`
/// and the policy decides it like any other (profile.blockOversize, from scan.oversize).
import { allowAnswer, blockAnswer, istagFor, type BodyStore, type IcapAnswer, type IcapHandler, type IcapService, type IcapTransactionInfo, type ReceivedBody, type TransferLists, type TricklePlan } from 'icap-server-lite'
import { readSource, releaseSource, type BodySource } from '../scan/body.js'
import type { ScanService } from '../scan/service.js'
import type { ScanBody, ScanContext } from '../scan/input.js'
import { decide, decideUnscanned, policyContext, type Decision } from '../policy/decide.js'
import type { Profile } from '../policy/profile.js'
import type { PolicyHolder } from '../policy/policy-set.js'
import { renderBlockPage } from '../policy/block-page.js'
import { sha256Of, trueTypeOf } from '../scan/sniff.js'
import type { Verdict } from '../engine/verdict.js'
import { icapStatusOf } from '../errors.js'
import { noRecorder, type Recorder } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { RecentBlocks } from './recent-blocks.js'
import { uploadDecision, type UploadCheck } from '../content-filter/upload.js'

/// The decision reason (log line and decision database) of a download cut in trickle mode, and of
/// its retry refused from the memory of recent cuts.
export const partiallyBlocked = 'partially-blocked'
export const recentlyBlocked = 'recently-blocked'

export interface ScanwallHandlerDeps {
  readonly scan: ScanService
  /// The policy in force (profiles per service); read once per transaction, replaced on reload.
  readonly policy: PolicyHolder
  readonly nodeId: string
  readonly blockTemplate: string
  /// The decision database (src/records); absent: nothing is recorded.
  readonly recorder?: Recorder
  /// Blocked objects kept (src/quarantine); absent: quarantine off.
  readonly quarantine?: Quarantine
  /// The outgoing content filter for REQMOD uploads (src/content-filter); absent: off.
  readonly uploads?: UploadCheck
}

/// The verdict recorded for an object decided without a scan (lists, what not to scan).
const unscanned: Verdict = { status: 'clean', findings: [], stats: { bytes: 0, objects: 0, depth: 0, ms: 0 } }

/// The scan's context from an ICAP transaction: the service path, the method, the end client and
/// user as Squid sends them, the URL, and the header fields of the HTTP message whose body it is.
/// The header map is built on first read: nothing on the scan path reads it today, and building it
/// for every transaction was a measurable part of a 4 KiB request's CPU (issue #10's gate).
export function scanContext (tx: IcapTransactionInfo): ScanContext {
  return new IcapScanContext(tx)
}

/// A class rather than an object literal with a getter and a conditional spread: V8 builds such a
/// literal in its slow dictionary mode, and every transaction made one (issue #10's 4 KiB gate).
class IcapScanContext implements ScanContext {
  readonly service: string
  readonly method: string
  readonly client: string
  /// Declared, not defined: a context without a user has no `user` key at all.
  declare readonly user?: string
  readonly url: string
  readonly #tx: IcapTransactionInfo
  #headers: Record<string, string> | undefined

  constructor (tx: IcapTransactionInfo) {
    this.#tx = tx
    this.service = tx.service.name
    this.method = tx.request.method
    this.client = tx.clientIp ?? tx.remote
    if (tx.user !== undefined) (this as { user?: string }).user = tx.user
    this.url = tx.url
  }

  get headers (): Record<string, string> {
    this.#headers ??= headerMap(this.#tx)
    return this.#headers
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
  /// URLs whose trickled download was cut, made when the first one is (settings from scan.trickle).
  #recentBlocks: RecentBlocks | undefined
  #istagVersion: string | undefined
  #istag = ''

  constructor (deps: ScanwallHandlerDeps) {
    this.#deps = deps
    // The server's chunks are views of its reused read buffer (icap-server-lite's BodyWriter).
    this.bodies = { open: size => deps.scan.openSink(size, true), read: readSource, release: releaseSource }
  }

  /// Trickle mode is the service's profile's; the package asks only where a 200 echo would be needed.
  trickle (tx: IcapTransactionInfo): TricklePlan | undefined {
    const settings = this.#deps.policy.current.forService(tx.service.name).trickle
    return settings === undefined ? undefined : { holdBackBytes: settings.holdBackBytes }
  }

  /// A URL whose download was cut a moment ago: the block page at once, without fetching the body.
  /// Set only once a download has been cut: until then there is nothing to answer early, and the
  /// package skips the question (and the transaction info it builds for it) on every transaction.
  early?: (tx: IcapTransactionInfo) => IcapAnswer<BodySource> | undefined

  #recentAnswer (tx: IcapTransactionInfo): IcapAnswer<BodySource> | undefined {
    const recent = this.#recentBlocks?.lookup(tx.url)
    if (recent === undefined) return undefined
    const verdict: Verdict = { status: 'infected', findings: [{ name: recent.threat, kind: 'signature', path: [] }], stats: { bytes: 0, objects: 0, depth: 0, ms: 0 } }
    ;(this.#deps.recorder ?? noRecorder).record({ verdict, decision: { action: 'block', reason: recentlyBlocked, threat: recent.threat }, context: scanContext(tx), bytes: 0 })
    return this.#blockPage(tx, recent.threat, recentlyBlocked, recentlyBlocked, this.#deps.policy.current.forService(tx.service.name).name)
  }

  #blockPage (tx: IcapTransactionInfo, threat: string, label: string, reason: string, profile: string): IcapAnswer<BodySource> {
    const page = renderBlockPage(this.#deps.blockTemplate, { threat, url: tx.url, node: this.#deps.nodeId, service: tx.service.name, reason, profile })
    return blockAnswer(threat, Buffer.from(page, 'utf8'), label)
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

  /// OPTIONS advertises what the service's profile wants sent (RFC 3507 4.10.2).
  transferLists (service: IcapService): TransferLists {
    return this.#deps.policy.current.forService(service.name)
  }

  async respond (tx: IcapTransactionInfo, body: ReceivedBody<BodySource> | undefined, signal: AbortSignal): Promise<IcapAnswer<BodySource>> {
    if (body === undefined) return allowAnswer(undefined, 'no-body')
    const profile = this.#deps.policy.current.forService(tx.service.name)
    const context = scanContext(tx)
    const where = policyContext(context)
    const stored = body.overLimit ? undefined : body.stored
    const early = decideUnscanned(where, profile) ??
      (profile.skipTypes.length > 0 && stored !== undefined ? decideUnscanned(where, profile, await trueTypeOf(stored)) : undefined)
    if (early !== undefined) return await this.#finish(tx, body, { verdict: unscanned, body: body.stored }, early, context, profile)
    const input: ScanBody = stored === undefined || body.size > profile.maxObjectBytes
      ? { kind: 'oversize', size: body.size, kept: body.stored }
      : stored
    // A quarantine needs the body after the scan too (to keep it, or to know it was released).
    // The content filter reads an upload's body after the scan too.
    const keepBody = tx.echoNeeded || (this.#deps.quarantine?.wants(context.service) ?? false) || (this.#deps.uploads !== undefined && context.method === 'REQMOD')
    const outcome = await this.#deps.scan.scan(input, context, signal, { keepBody })
    // Awaited only where there is something to wait for: a clean object of an ICAP client without a
    // quarantine or an upload filter takes no further promise (each costs the I/O thread, issue #10).
    const judged = decide(outcome.verdict, where, profile)
    const decided = judged.action === 'block' && this.#deps.quarantine !== undefined && outcome.body !== undefined
      ? await this.#released(judged, outcome.verdict, context, profile, outcome.body)
      : judged
    // An upload the scan let through may still carry data that must not leave (contentFilter).
    const decision = this.#deps.uploads !== undefined && context.method === 'REQMOD'
      ? await uploadDecision(this.#deps.uploads, outcome.body, context, decided, signal)
      : decided
    return await this.#finish(tx, body, outcome, decision, context, profile)
  }

  /// A block of an object an administrator released is decided again as released.
  async #released (decision: Decision, verdict: Verdict, context: ScanContext, profile: Profile, kept: BodySource): Promise<Decision> {
    const quarantine = this.#deps.quarantine
    if (quarantine === undefined) return decision
    const released = await quarantine.released(async () => await sha256Of(kept), profile.releaseHours)
    return released ? decide(verdict, policyContext(context, released), profile) : decision
  }

  /// Carries out a decision: quarantine, record, free what is not echoed, answer.
  async #finish (tx: IcapTransactionInfo, body: ReceivedBody<BodySource>, outcome: { readonly verdict: Verdict, readonly body?: BodySource | undefined },
    decided: Decision, context: ScanContext, profile: Profile): Promise<IcapAnswer<BodySource>> {
    const { verdict } = outcome
    // Decided before any scan (a list, a skipped type): logged and recorded as unscanned, never as
    // clean, so nobody reads a policy exception as a verdict of the engine.
    const scanned = verdict !== unscanned
    const status = scanned ? verdict.status : 'unscanned'
    // Streamed in trickle mode: a block (or a failure, which cannot be answered any more) cuts the
    // transfer; the client keeps a prefix, so the record says so.
    const decision: Decision = tx.trickled && decided.action !== 'allow' && verdict.status !== 'aborted'
      ? { action: 'block', reason: partiallyBlocked, threat: decided.action === 'block' ? decided.threat : 'Scanwall.ScanError' }
      : decided
    if (decision.action === 'block' && decision.reason === partiallyBlocked) {
      const settings = profile.trickle
      if (settings !== undefined && this.#recentBlocks === undefined) {
        this.#recentBlocks = new RecentBlocks(settings.retryBlockMs, settings.retryBlockEntries)
        this.early = tx => this.#recentAnswer(tx)
      }
      this.#recentBlocks?.remember(tx.url, decision.threat)
    }
    const quarantine = this.#deps.quarantine
    const kept = decision.action === 'block' && quarantine !== undefined && outcome.body !== undefined
      ? await quarantine.keep(outcome.body, verdict, decision, context)
      : undefined
    ;(this.#deps.recorder ?? noRecorder).record({ verdict, decision, context, bytes: body.size, ...(kept === undefined ? {} : { quarantine: kept }), ...(scanned ? {} : { unscanned: true }) })
    // The body handed back goes to the server to echo (it releases it); any other is ours to free.
    const echo = decision.action === 'allow' && tx.echoNeeded ? outcome.body : undefined
    // Only a spooled body has anything to free (a memory body is garbage once dropped): no await else.
    if (outcome.body?.kind === 'file' && outcome.body !== echo && outcome.body !== body.stored) await releaseSource(outcome.body)
    if (body.stored?.kind === 'file' && body.stored !== echo) await releaseSource(body.stored)
    switch (decision.action) {
      case 'allow':
        return allowAnswer(echo, decision.threat === undefined ? status : 'log-only')
      case 'block':
        return this.#blockPage(tx, decision.threat, decision.reason === partiallyBlocked ? partiallyBlocked : status, decision.reason, profile.name)
      case 'fail':
        if (decision.code === 'SCAN_ABORTED') return { kind: 'abort', verdict: 'aborted' }
        return { kind: 'error', status: icapStatusOf(decision.code), verdict: verdict.status }
    }
  }
}
