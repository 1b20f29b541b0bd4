/// The spam filter on the milter path, for mail arriving: `SpamFilter.classify` with the envelope
/// (client, HELO, sender, recipients, SASL user) and the listener's profile, turned into milter
/// replies as docs/spam.md says: ham is delivered and suspect mail tagged (X-Spam-* header fields,
/// forged copies from outside replaced; suspect: the subject tag), spam rejected with the
/// configured reply, quarantined (our quarantine and the MTA's hold queue) or discarded. Every
/// result is recorded in the decision database (mail results: score, rules, action).
import type { Modification } from '../../protocols/milter/index.js'
import type { SpamFilter, SpamProfile, SpamResult } from '../spam/filter.js'
import type { MailResults } from '../spam/results.js'
import { decodeHeader } from '../spam/message.js'
import { spamThreat } from '../spam/release.js'
import type { ReplyTemplate } from './handler.js'
import { fillReply, headerValue, type FilterStep } from './filter-step.js'
import { replaceHeader } from './headers.js'
import { clientAddress } from './skip.js'
import { bare } from './record.js'

export interface SpamStepDeps {
  readonly filter: Pick<SpamFilter, 'classify'>
  readonly profile: SpamProfile
  /// `{score}` and `{rules}` filled in.
  readonly reply: ReplyTemplate
  readonly results?: Pick<MailResults, 'record'> | undefined
}

export function spamStep (deps: SpamStepDeps): FilterStep {
  return async (bytes, envelope, message) => {
    const client = clientAddress(envelope)
    const helo = envelope.helo
    const user = envelope.macros.get('auth_authen')
    const recipients = envelope.recipients.map(bare)
    const s = await deps.filter.classify(bytes, {
      sender: bare(envelope.sender),
      recipients,
      ...(client === undefined ? {} : { client }),
      ...(helo === undefined ? {} : { helo }),
      ...(user === undefined || user === '' ? {} : { authUser: user }),
    }, deps.profile)
    const subject = headerValue(message.headers, 'Subject')
    deps.results?.record({ direction: 'in', client: client ?? '', sender: s.sender, recipients: recipients.join(','), subject: decodeHeader(subject), score: s.score, verdict: s.verdict, action: s.action, rules: s.rules })
    const summary = { filter: 'spam', verdict: s.verdict, action: s.action, score: s.score, rules: s.rules.map(r => r.name), stopped: s.action !== 'deliver' && s.action !== 'tag', threat: spamThreat, reason: `spam score ${s.score}` } as const
    const headers: Modification[] = s.headers.flatMap(([name, value]) => replaceHeader(message.headers, name, value))
    switch (s.action) {
      case 'deliver': return { verdict: { kind: 'accept' }, modifications: headers, summary }
      case 'tag': return { verdict: { kind: 'accept' }, modifications: [...headers, ...subjectTag(s, deps.profile, message.headers, subject)], summary }
      case 'reject': return { verdict: fillReply(deps.reply, { score: String(s.score), rules: summary.rules.join(',') }), modifications: [], summary }
      case 'discard': return { verdict: { kind: 'discard' }, modifications: [], summary }
      case 'quarantine': return {
        verdict: { kind: 'accept' },
        modifications: [...headers, { kind: 'quarantine', reason: `spam score ${s.score}` }],
        keep: { threat: spamThreat, reason: summary.reason, release: false },
        summary,
      }
    }
  }
}

/// The Subject with the profile's tag in front. The filter says whether to tag (its `subject` is
/// the decoded text); the tag goes in front of the field as sent, so RFC 2047 encoded words stay
/// encoded and the field stays ASCII.
function subjectTag (s: SpamResult, profile: SpamProfile, headers: Parameters<typeof replaceHeader>[0], raw: string): Modification[] {
  if (s.subject === undefined) return []
  return replaceHeader(headers, 'Subject', raw === '' ? profile.subjectTag : `${profile.subjectTag} ${raw}`)
}
