/// One decision as a row of the decision database, and which decisions are events at all: every
/// detection, block and quarantine (a clean object that passed is counted in the hourly aggregates
/// only); an operator's change is an event too (action 'admin'). Pure: the writer and both stores share these shapes.
import type { RecordInput } from './recorder.js'

/// 'admin': an operator's change through the console or its API (who, from where, what, on what).
export type EventAction = 'detect' | 'block' | 'quarantine' | 'admin'

export interface DecisionEvent {
  /// The writing node, its process start (boot) and the event's number within that boot: together
  /// the primary key, so nodes sharing one PostgreSQL database never collide and a retried batch
  /// cannot double an event.
  readonly node: string
  readonly boot: string
  readonly seq: number
  /// Milliseconds since the epoch.
  readonly at: number
  readonly action: EventAction
  readonly service: string
  readonly method: string
  readonly client: string
  readonly user: string
  readonly url: string
  readonly verdict: string
  readonly threat: string
  readonly reason: string
  readonly bytes: number
  readonly sha256: string
  readonly quarantineId: string
  /// A mail message's envelope sender and recipients (comma-separated); '' for other services.
  readonly sender: string
  readonly recipients: string
  /// What a mail filter did to the message (`spam:reject`, `content:archive` …); '' when none did.
  readonly filterAction: string
}

/// The event's action, or undefined when the decision is no event (clean and allowed, or a failure
/// the protocol answered with an error status: those are counted, not recorded).
export function eventAction (input: RecordInput): EventAction | undefined {
  if (input.decision.action === 'block') return input.quarantine === undefined ? 'block' : 'quarantine'
  if (input.decision.action === 'fail') return undefined
  // A mail filter acted after the virus scan allowed the message: the event says what it did.
  const filter = input.filter
  if (filter !== undefined) return !filter.stopped ? 'detect' : input.quarantine === undefined ? 'block' : 'quarantine'
  // A block the profile turned into "log only" is a detection the object passed with.
  return input.verdict.status === 'infected' || input.decision.threat !== undefined ? 'detect' : undefined
}

/// The threat an object is counted under: the decision's for a block, else the first finding of an
/// infected verdict; '' when there is none.
export function threatOf (input: RecordInput): string {
  if (input.decision.action === 'block') return input.decision.threat
  if (input.decision.action === 'allow' && input.decision.threat !== undefined) return input.decision.threat
  if (input.filter !== undefined) return input.filter.threat
  return input.verdict.status === 'infected' ? input.verdict.findings[0]?.name ?? '' : ''
}

export function eventOf (input: RecordInput, action: EventAction, node: string, boot: string, seq: number, at: number): DecisionEvent {
  const ctx = input.context
  return {
    node,
    boot,
    seq,
    at,
    action,
    service: ctx.service,
    method: ctx.method ?? '',
    client: ctx.client ?? '',
    user: ctx.user ?? '',
    url: ctx.url ?? '',
    verdict: input.unscanned === true ? 'unscanned' : input.verdict.status,
    threat: threatOf(input),
    reason: input.filter?.reason ?? input.decision.reason,
    bytes: input.bytes,
    sha256: input.quarantine?.sha256 ?? '',
    quarantineId: input.quarantine?.id ?? '',
    sender: ctx.mail?.sender ?? '',
    recipients: ctx.mail?.recipients.join(',') ?? '',
    filterAction: input.filter?.action ?? '',
  }
}

/// An operator's change (console, management API): who, from which address, what and on what.
export interface AdminChange {
  readonly user: string
  readonly client: string
  /// What was done: 'node offline', 'quarantine release' …
  readonly what: string
  /// What it was done to: a node, an instance, a quarantine id.
  readonly target: string
  readonly detail: string
}

export function adminEventOf (change: AdminChange, node: string, boot: string, seq: number, at: number): DecisionEvent {
  return {
    node,
    boot,
    seq,
    at,
    action: 'admin',
    service: 'console',
    method: change.what,
    client: change.client,
    user: change.user,
    url: change.target,
    verdict: '',
    threat: '',
    reason: change.detail,
    bytes: 0,
    sender: '',
    recipients: '',
    sha256: '',
    quarantineId: '',
    filterAction: '',
  }
}
