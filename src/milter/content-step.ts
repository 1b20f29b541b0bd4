/// The outgoing content filter on the milter path, for mail leaving from our networks or from
/// authenticated senders: `ContentFilter.check` on the whole message (every MIME part and every
/// attachment layer the engine opens), turned into milter replies as docs/spam.md says: `block`
/// refuses with the configured reply naming the rule, `quarantine` keeps it (our quarantine and
/// the MTA's hold queue), `delete` discards it, `archive` keeps a copy and delivers, `log` and no
/// hit deliver. The rule's notifications go out through the SMTP notifier (sender, recipients,
/// the admin address); every hit is recorded in the decision database.
import type { ContentFilter, ContentResult } from '../content-filter/filter.js'
import type { MailResults } from '../spam/results.js'
import { decodeHeader } from '../spam/message.js'
import type { ReplyTemplate } from './handler.js'
import { fillReply, headerValue, type FilterStep } from './filter-step.js'
import { clientAddress } from './skip.js'
import { bare } from './record.js'

/// Sends one notification (rate-limited by the notifier); absent: notifications are only logged.
export type SendNotice = (to: readonly string[], subject: string, text: string) => void

export interface ContentStepDeps {
  readonly filter: Pick<ContentFilter, 'check'>
  /// `{rule}` filled in.
  readonly reply: ReplyTemplate
  readonly results?: Pick<MailResults, 'record'> | undefined
  readonly send?: SendNotice | undefined
  /// Who `admin` is in a rule's notify list ('' for nobody).
  readonly admin: string
}

export function contentStep (deps: ContentStepDeps): FilterStep {
  return async (bytes, envelope, message, signal) => {
    const sender = bare(envelope.sender)
    const recipients = envelope.recipients.map(bare)
    const subject = decodeHeader(headerValue(message.headers, 'Subject'))
    const r = await deps.filter.check(bytes, { kind: 'mail', sender, recipients, subject }, signal)
    const rules = r.hits.map(h => h.rule)
    const stopped = r.action === 'block' || r.action === 'quarantine' || r.action === 'delete'
    // The rule that decided: the first one whose action is the strongest.
    const rule = r.hits.find(h => h.action === r.action)?.rule ?? 'rule'
    const threat = `Content.${rule}`
    const summary = { filter: 'content', verdict: r.action === 'pass' ? 'pass' : 'hit', action: r.action, rules, stopped, threat, reason: `content rule ${rule}` } as const
    if (r.action === 'pass') return { verdict: { kind: 'accept' }, modifications: [], summary }
    deps.results?.record({ direction: 'out', client: clientAddress(envelope) ?? '', sender, recipients: recipients.join(','), subject, score: 0, verdict: 'hit', action: r.action, rules: rules.map(name => ({ name, score: 1 })) })
    notify(deps, r, sender, recipients)
    switch (r.action) {
      case 'block': return { verdict: fillReply(deps.reply, { rule }), modifications: [], summary }
      case 'quarantine': return { verdict: { kind: 'accept' }, modifications: [{ kind: 'quarantine', reason: `content rule ${rule}` }], keep: { threat, reason: `content rule ${rule}`, release: false }, summary }
      case 'delete': return { verdict: { kind: 'discard' }, modifications: [], summary }
      case 'archive': return { verdict: { kind: 'accept' }, modifications: [], keep: { threat, reason: `content rule ${rule} (archived)`, release: true }, summary }
      case 'log': return { verdict: { kind: 'accept' }, modifications: [], summary }
    }
  }
}

/// Each notification the filter rendered, to the addresses its `to` stands for. Outgoing mail only
/// reaches this step, so the sender is ours: telling it is no backscatter.
function notify (deps: ContentStepDeps, r: ContentResult, sender: string, recipients: readonly string[]): void {
  if (deps.send === undefined) return
  for (const n of r.notifications) {
    const to = n.to === 'sender' ? [sender] : n.to === 'recipients' ? recipients : [deps.admin]
    const addresses = to.filter(a => a !== '')
    if (addresses.length > 0) deps.send(addresses, n.subject, n.body)
  }
}
