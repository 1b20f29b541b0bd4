/// Scanwall's milter handler: what the milter server asks of the application, answered with the
/// scan service, the policy and the mail profile. A message (headers and body as one RFC 5322
/// object) goes into a scan-service sink (memory, spooled past scan.memoryLimitBytes) with its
/// envelope as the scan context; the policy decides, the mail profile (actions.ts) says what is
/// done: accept, reject naming the threat, defer, discard, quarantine (ours and the MTA's hold
/// queue) or deliver with the status headers. A message that goes on is then judged by the spam
/// filter (incoming) or the content filter (outgoing): filter-step.ts, spam-step.ts,
/// content-step.ts. Every message is recorded and reported once.
import type { MessageBody, MessageSummary, MilterAnswer, MilterEnvelope, MilterHandler, Modification, VerdictReply } from '../../protocols/milter/index.js'
import { releaseSource, type BodySource } from '../scan/body.js'
import type { ScanService } from '../scan/service.js'
import type { ScanBody } from '../scan/input.js'
import type { Verdict } from '../engine/verdict.js'
import { decide, type Decision, type Profile } from '../policy/decide.js'
import { noRecorder, type QuarantineRef, type Recorder } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { errorMessage, type ErrorCode } from '../errors.js'
import { cappedSink } from '../scan/capped-sink.js'
import { outcomeOf, type MailAction, type MailOutcome, type MailProfile } from './actions.js'
import { replaceHeader, scannedHeader, scannedValue, statusHeader, statusValue } from './headers.js'
import { filterRecordOf, mailContext, type MessageRecord } from './record.js'
import { fillReply, type FilterOutcome, type MilterFilters } from './filter-step.js'
import { runFilter } from './filter-run.js'

/// The policy context of a message: the profile's request rules (lists, trusted domains) are about
/// HTTP and do not apply to mail.
const milterWhere = { service: 'milter' } as const

/// An SMTP reply as configured: `550 5.7.1 text` (`{threat}` replaced).
export interface ReplyTemplate { readonly code: string, readonly text: string }

export interface MilterHandlerDeps {
  readonly scan: ScanService
  readonly profile: Profile
  readonly actions: MailProfile
  /// scan.maxObjectBytes: larger messages are not scanned (a `limit` verdict).
  readonly maxObjectBytes: number
  readonly rejectReply: ReplyTemplate
  readonly tempfailReply: ReplyTemplate
  /// Add (replace) the X-Virus-Scanned and X-Virus-Status headers on messages that go on.
  readonly statusHeaders: boolean
  readonly version: string
  /// Named in X-Virus-Scanned (undefined: left out).
  readonly nodeName: string | undefined
  readonly quarantine?: Quarantine
  readonly recorder?: Recorder
  /// A verdict for the whole message at MAIL FROM (skip lists), undefined to scan it.
  readonly early?: (envelope: MilterEnvelope) => { readonly reply: VerdictReply, readonly reason: string } | undefined
  /// A verdict at the end of the message before any scan (busy hours), undefined to scan it.
  readonly beforeScan?: (envelope: MilterEnvelope, size: number) => { readonly reply: VerdictReply, readonly reason: string } | undefined
  /// The spam and content filters (issue #14): one of them judges a message the virus scan let go on.
  readonly filters?: MilterFilters | undefined
  /// One call per message (log line, counters, usage, notifications).
  readonly report: (record: MessageRecord) => void
}

const fill = (t: ReplyTemplate, threat: string): VerdictReply => fillReply(t, { threat })

export class ScanwallMilterHandler implements MilterHandler {
  readonly #deps: MilterHandlerDeps

  constructor (deps: MilterHandlerDeps) { this.#deps = deps }

  mail (envelope: MilterEnvelope): VerdictReply | undefined {
    const early = this.#deps.early?.(envelope)
    if (early === undefined) return undefined
    this.#deps.report({ envelope, size: 0, verdict: '-', threat: undefined, action: early.reason, ms: 0 })
    return early.reply
  }

  openMessage (): MessageBody {
    const deps = this.#deps
    // Past scan.maxObjectBytes the bytes are dropped: the message is judged by its size alone.
    const body = cappedSink(deps.scan.openSink(), deps.maxObjectBytes)
    return {
      write: bytes => body.write(bytes),
      finish: async (envelope, message, signal) => {
        const started = performance.now()
        const before = deps.beforeScan?.(envelope, message.size)
        if (before !== undefined) {
          await body.discard()
          deps.report({ envelope, size: message.size, verdict: '-', threat: undefined, action: before.reason, ms: Math.round(performance.now() - started) })
          return { verdict: before.reply }
        }
        if (body.over || message.overLimit !== undefined) {
          await body.discard()
          return await this.#judge({ kind: 'oversize', size: message.size, kept: undefined }, envelope, message, signal, started)
        }
        let source: BodySource
        try {
          source = await body.finish()
        } catch (err) {
          const verdict = failure('SCAN_SPOOL_FAILED', errorMessage(err))
          return this.#answer(verdict, decide(verdict, milterWhere, deps.profile), undefined, envelope, message, started)
        }
        try {
          return await this.#judge(source, envelope, message, signal, started)
        } finally {
          await releaseSource(source)
        }
      },
      discard: async () => { await body.discard() },
    }
  }

  async #judge (body: ScanBody, envelope: MilterEnvelope, message: MessageSummary, signal: AbortSignal, started: number): Promise<MilterAnswer> {
    const deps = this.#deps
    const context = mailContext(envelope)
    const quarantine = deps.quarantine
    // The spam or content filter reads the message after the virus scan: the scan hands it back.
    const step = body.kind === 'oversize' ? undefined : deps.filters?.stepFor(envelope, message.size)
    const keepBody = step !== undefined || (quarantine !== undefined && Object.values(deps.actions).includes('quarantine') && quarantine.wants(context.service))
    const outcome = await deps.scan.scan(body, context, signal, { keepBody })
    let verdict = outcome.verdict
    let decision = decide(verdict, milterWhere, deps.profile)
    let kept: QuarantineRef | undefined
    let filtered: FilterOutcome | undefined
    try {
      const action = this.#actionFor(verdict, decision)
      if (outcome.body !== undefined && quarantine !== undefined && action === 'quarantine' && decision.action === 'block') {
        // The mail profile's quarantine action is what makes this block a "quarantine and block".
        kept = await quarantine.keep(outcome.body, verdict, { ...decision, quarantine: true }, context)
      } else if (step !== undefined && outcome.body !== undefined && decision.action === 'allow' && (action === 'accept' || action === 'headers')) {
        const run = await runFilter(step, outcome.body, envelope, message, signal, { quarantine, verdict, context })
        if (run.ok) {
          filtered = run.outcome
          kept = run.kept
        } else {
          verdict = failure('INTERNAL', `mail filter failed: ${run.message}`)
          decision = decide(verdict, milterWhere, deps.profile)
        }
      }
    } finally {
      if (outcome.body !== undefined && outcome.body !== body) await releaseSource(outcome.body)
    }
    // The message's event: the virus decision, or what the filter did to it (the rules that hit
    // are in the mail results, src/spam/results.ts).
    ;(deps.recorder ?? noRecorder).record({ verdict, decision, context, bytes: message.size, ...(kept === undefined ? {} : { quarantine: kept }), ...filterRecordOf(filtered?.summary) })
    return this.#answer(verdict, decision, kept, envelope, message, started, filtered)
  }

  #actionFor (verdict: Verdict, decision: Decision): MailAction {
    return this.#deps.actions[outcomeOf(verdict, decision)]
  }

  #answer (verdict: Verdict, decision: Decision, kept: QuarantineRef | undefined, envelope: MilterEnvelope, message: MessageSummary, started: number, filtered?: FilterOutcome): MilterAnswer {
    const deps = this.#deps
    const outcome: MailOutcome = outcomeOf(verdict, decision)
    const action = deps.actions[outcome]
    const threat = decision.action === 'block' ? decision.threat : undefined
    const summary = filtered?.summary
    deps.report({
      envelope,
      size: message.size,
      verdict: verdict.status,
      threat,
      action: summary === undefined ? action : `${summary.filter}:${summary.action}`,
      ms: Math.round(performance.now() - started),
      ...(kept === undefined ? {} : { quarantineId: kept.id }),
      ...(summary === undefined ? {} : { filter: summary }),
    })
    const headers = (): Modification[] => deps.statusHeaders
      ? [...replaceHeader(message.headers, scannedHeader, scannedValue(deps.version, deps.nodeName)), ...replaceHeader(message.headers, statusHeader, statusValue(threat))]
      : []
    // The filter has the last word on a message the virus scan let go on; a refused or dropped
    // message takes no modifications.
    if (filtered !== undefined) return filtered.verdict.kind === 'accept' ? { verdict: filtered.verdict, modifications: [...headers(), ...filtered.modifications] } : { verdict: filtered.verdict }
    switch (action) {
      case 'accept': return { verdict: { kind: 'accept' }, modifications: headers() }
      case 'headers': return { verdict: { kind: 'accept' }, modifications: headers() }
      case 'reject': return { verdict: fill(deps.rejectReply, threat ?? verdict.error?.code ?? verdict.status) }
      case 'tempfail': return { verdict: fill(deps.tempfailReply, threat ?? verdict.error?.code ?? verdict.status) }
      case 'discard': return { verdict: { kind: 'discard' } }
      case 'quarantine': return { verdict: { kind: 'accept' }, modifications: [...headers(), { kind: 'quarantine', reason: `Scanwall: ${threat ?? outcome}` }] }
    }
  }
}

/// A verdict for a message that could not be judged (spool failure, a filter that broke).
function failure (code: ErrorCode, message: string): Verdict {
  return { status: 'error', findings: [], stats: { bytes: 0, objects: 0, depth: 0, ms: 0 }, error: { code, message } }
}
