/// Scanwall's milter handler: what the milter server asks of the application, answered with the
/// scan service, the policy and the mail profile. A message (headers and body as one RFC 5322
/// object) goes into a scan-service sink (memory, spooled past scan.memoryLimitBytes) with its
/// envelope as the scan context; the policy decides, the mail profile (actions.ts) says what is
/// done: accept, reject naming the threat, defer, discard, quarantine (ours and the MTA's hold
/// queue) or deliver with the status headers. Every message is recorded and reported once.
import type { MessageBody, MessageSummary, MilterAnswer, MilterEnvelope, MilterHandler, Modification, VerdictReply } from '../../protocols/milter/index.js'
import { releaseSource, type BodySource } from '../scan/body.js'
import type { ScanService } from '../scan/service.js'
import type { ScanBody } from '../scan/input.js'
import type { Verdict } from '../engine/verdict.js'
import { decide, type Decision, type Profile } from '../policy/decide.js'
import { noRecorder, type QuarantineRef, type Recorder } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { errorMessage } from '../errors.js'
import { outcomeOf, type MailAction, type MailOutcome, type MailProfile } from './actions.js'
import { replaceHeader, scannedHeader, scannedValue, statusHeader, statusValue } from './headers.js'
import { mailContext, type MessageRecord } from './record.js'

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
  /// One call per message (log line, counters, usage, notifications).
  readonly report: (record: MessageRecord) => void
}

const fill = (t: ReplyTemplate, threat: string): VerdictReply => ({ kind: 'reply', code: t.code, text: t.text.replaceAll('{threat}', threat) })

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
    const sink = deps.scan.openSink()
    let size = 0
    // Past scan.maxObjectBytes the bytes are dropped: the message is judged by its size alone.
    let over = false
    let done = false
    return {
      write: bytes => {
        size += bytes.length
        if (over || size > deps.maxObjectBytes) {
          if (!over) void sink.discard()
          over = true
          return undefined
        }
        return sink.write(bytes)
      },
      finish: async (envelope, message, signal) => {
        done = true
        const started = performance.now()
        const before = deps.beforeScan?.(envelope, message.size)
        if (before !== undefined) {
          if (!over) await sink.discard()
          deps.report({ envelope, size: message.size, verdict: '-', threat: undefined, action: before.reason, ms: Math.round(performance.now() - started) })
          return { verdict: before.reply }
        }
        if (over || message.overLimit !== undefined) {
          if (!over) await sink.discard()
          return await this.#judge({ kind: 'oversize', size: message.size, kept: undefined }, envelope, message, signal, started)
        }
        let source: BodySource
        try {
          source = await sink.finish()
        } catch (err) {
          const verdict: Verdict = { status: 'error', findings: [], stats: { bytes: 0, objects: 0, depth: 0, ms: 0 }, error: { code: 'SCAN_SPOOL_FAILED', message: errorMessage(err) } }
          return this.#answer(verdict, decide(verdict, milterWhere, deps.profile), undefined, envelope, message, started)
        }
        try {
          return await this.#judge(source, envelope, message, signal, started)
        } finally {
          await releaseSource(source)
        }
      },
      discard: async () => { if (!over && !done) await sink.discard() },
    }
  }

  async #judge (body: ScanBody, envelope: MilterEnvelope, message: MessageSummary, signal: AbortSignal, started: number): Promise<MilterAnswer> {
    const deps = this.#deps
    const context = mailContext(envelope)
    const quarantine = deps.quarantine
    const keepBody = quarantine !== undefined && Object.values(deps.actions).includes('quarantine') && quarantine.wants(context.service)
    const outcome = await deps.scan.scan(body, context, signal, { keepBody })
    const verdict = outcome.verdict
    const decision = decide(verdict, milterWhere, deps.profile)
    let kept: QuarantineRef | undefined
    try {
      if (outcome.body !== undefined && quarantine !== undefined && this.#actionFor(verdict, decision) === 'quarantine' && decision.action === 'block') {
        // The mail profile's quarantine action is what makes this block a "quarantine and block".
        kept = await quarantine.keep(outcome.body, verdict, { ...decision, quarantine: true }, context)
      }
    } finally {
      if (outcome.body !== undefined && outcome.body !== body) await releaseSource(outcome.body)
    }
    ;(deps.recorder ?? noRecorder).record({ verdict, decision, context, bytes: message.size, ...(kept === undefined ? {} : { quarantine: kept }) })
    return this.#answer(verdict, decision, kept, envelope, message, started)
  }

  #actionFor (verdict: Verdict, decision: Decision): MailAction {
    return this.#deps.actions[outcomeOf(verdict, decision)]
  }

  #answer (verdict: Verdict, decision: Decision, kept: QuarantineRef | undefined, envelope: MilterEnvelope, message: MessageSummary, started: number): MilterAnswer {
    const deps = this.#deps
    const outcome: MailOutcome = outcomeOf(verdict, decision)
    const action = deps.actions[outcome]
    const threat = decision.action === 'block' ? decision.threat : undefined
    deps.report({ envelope, size: message.size, verdict: verdict.status, threat, action, ms: Math.round(performance.now() - started), ...(kept === undefined ? {} : { quarantineId: kept.id }) })
    const headers = (): Modification[] => deps.statusHeaders
      ? [...replaceHeader(message.headers, scannedHeader, scannedValue(deps.version, deps.nodeName)), ...replaceHeader(message.headers, statusHeader, statusValue(threat))]
      : []
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
