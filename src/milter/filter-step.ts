/// The mail filters on the milter path (issue #14, docs/spam.md): after the virus scan let a
/// message go on, one more step judges it. Mail leaving (the SMTP client in our networks, or
/// SASL-authenticated: `{auth_authen}`) goes through the content filter (content-step.ts), mail
/// arriving through the spam filter (spam-step.ts) with the listener's profile. A step answers with
/// an outcome the handler applies: the verdict, the modifications (header fields, the MTA's hold
/// queue), whether the message is kept in our quarantine, and a summary for the log line.
import type { MessageSummary, MilterEnvelope, Modification, VerdictReply } from '../../protocols/milter/index.js'
import { clientAddress, inNetworks } from './skip.js'
import { fillTemplate } from './notify.js'

/// What the log line and counters say about the filter's judgement.
export interface FilterSummary {
  readonly filter: 'spam' | 'content'
  /// spam: ham | suspect | spam; content: pass | hit.
  readonly verdict: string
  /// The filter's action (deliver, tag, reject, quarantine, discard; content: pass, log, archive, delete, block).
  readonly action: string
  readonly score?: number
  readonly rules: readonly string[]
  /// True when the message does not reach its recipients (refused, held, dropped).
  readonly stopped: boolean
  /// What the decision database's event says when the filter acted ('Spam', 'Content.<rule>'; why).
  readonly threat?: string
  readonly reason?: string
}

export interface FilterOutcome {
  readonly verdict: VerdictReply
  readonly modifications: readonly Modification[]
  /// Keep the message in our quarantine under this threat name; `release`: kept as an archive
  /// copy (released at once: it was delivered).
  readonly keep?: { readonly threat: string, readonly reason: string, readonly release: boolean }
  readonly summary: FilterSummary
}

/// One filter: judges the whole message (bytes as received, CRLF) with its envelope.
export type FilterStep = (bytes: Uint8Array, envelope: MilterEnvelope, message: MessageSummary, signal: AbortSignal) => Promise<FilterOutcome>

export interface FilterChoice {
  /// Largest message the step reads; a larger one is delivered on the virus verdict alone.
  readonly maxBytes: number
  readonly run: FilterStep
}

export interface MilterFilters {
  /// The step for this message, or undefined when no filter applies (direction, size, config).
  stepFor (envelope: MilterEnvelope, size: number): FilterStep | undefined
}

/// Outgoing: the client is in our networks or authenticated with SASL.
export function isOutgoing (ourNetworks: (address: string) => boolean, envelope: MilterEnvelope): boolean {
  return inNetworks(ourNetworks, clientAddress(envelope)) || (envelope.macros.get('auth_authen') ?? '') !== ''
}

export function milterFilters (ourNetworks: (address: string) => boolean, steps: { readonly spam?: FilterChoice | undefined, readonly content?: FilterChoice | undefined }): MilterFilters | undefined {
  if (steps.spam === undefined && steps.content === undefined) return undefined
  return {
    stepFor (envelope, size) {
      const step = isOutgoing(ourNetworks, envelope) ? steps.content : steps.spam
      return step === undefined || size > step.maxBytes ? undefined : step.run
    },
  }
}

/// `{name}` placeholders of a configured SMTP reply, filled.
export function fillReply (reply: { readonly code: string, readonly text: string }, values: Readonly<Record<string, string>>): VerdictReply {
  return { kind: 'reply', code: reply.code, text: fillTemplate(reply.text, values) }
}

/// The first value of a header field as the MTA sent it (its leading space dropped), '' when absent.
export function headerValue (headers: MessageSummary['headers'], name: string): string {
  const lower = name.toLowerCase()
  return headers.find(h => h.name.toLowerCase() === lower)?.value.replace(/^[ \t]/, '') ?? ''
}
