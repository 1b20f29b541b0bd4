/// A message as the milter adapter reports it once judged (log line, counters, usage,
/// notifications), and its envelope as a scan context (service `milter`, the SMTP client, the
/// authenticated user, sender, recipients and queue id).
import type { MilterEnvelope } from '../../protocols/milter/index.js'
import type { ScanContext } from '../scan/input.js'
import type { FilterSummary } from './filter-step.js'
import type { FilterRecord } from '../records/recorder.js'

export interface MessageRecord {
  readonly envelope: MilterEnvelope
  /// Message bytes as received (0 for a message answered at MAIL FROM).
  readonly size: number
  /// The verdict's status ('-' when the message was not scanned: skip list, busy hours).
  readonly verdict: string
  readonly threat: string | undefined
  /// The mail action taken, or why no scan ran (`skip:<list>`, `busy-hours`).
  readonly action: string
  readonly ms: number
  readonly quarantineId?: string
  /// What the spam or content filter made of a message the virus scan let go on.
  readonly filter?: FilterSummary
}

/// An address without its angle brackets (`<>` becomes '').
export function bare (address: string | undefined): string {
  return (address ?? '').replace(/^<(.*)>$/, '$1')
}

export function mailContext (envelope: MilterEnvelope): ScanContext {
  const queueId = envelope.macros.get('i')
  const user = envelope.macros.get('auth_authen')
  const client = envelope.client?.address ?? envelope.macros.get('client_addr')
  return {
    service: 'milter',
    method: 'SMTP',
    ...(client === undefined || client === '' ? {} : { client }),
    ...(user === undefined || user === '' ? {} : { user }),
    mail: {
      sender: bare(envelope.sender),
      recipients: envelope.recipients.map(bare),
      ...(queueId === undefined ? {} : { queueId }),
      ...(envelope.helo === undefined ? {} : { helo: envelope.helo }),
    },
  }
}

/// What the decision database records about a filter's judgement: nothing for ham delivered or a
/// clean pass (the virus decision's allow stands), else the filter's action, threat and reason.
export function filterRecordOf (summary: FilterSummary | undefined): { filter: FilterRecord } | Record<string, never> {
  if (summary === undefined || summary.action === 'deliver' || summary.action === 'pass') return {}
  return { filter: { action: `${summary.filter}:${summary.action}`, threat: summary.threat ?? '', reason: summary.reason ?? '', stopped: summary.stopped } }
}
