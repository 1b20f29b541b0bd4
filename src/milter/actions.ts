/// The mail profile: what happens to a message for each kind of outcome (clean, infected, error,
/// limit), on top of the policy's decide(). A small pure mapping, kept apart so it can move into
/// the policy's profiles (`policy.profiles`) without touching the milter adapter.
import type { Verdict } from '../engine/verdict.js'
import type { Decision } from '../policy/decide.js'

/// What is done with a message: accept it, reject it (5xx naming the threat), defer it (4xx),
/// discard it (accepted, never delivered), quarantine it (kept in ours and put in the MTA's hold
/// queue), or deliver it with the status headers only.
export const mailActions = ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'headers'] as const
export type MailAction = typeof mailActions[number]

export type MailOutcome = 'clean' | 'infected' | 'error' | 'limit'

export type MailProfile = Readonly<Record<MailOutcome, MailAction>>

export const defaultMailProfile: MailProfile = { clean: 'accept', infected: 'reject', error: 'tempfail', limit: 'tempfail' }

/// The outcome a decision counts as: a block for content (a virus, an encrypted or damaged part
/// the policy blocks) is `infected`; a block for a size or depth limit is `limit`; no verdict
/// (fail-closed, overload, abort) is `error`; anything allowed is `clean`.
export function outcomeOf (verdict: Verdict, decision: Decision): MailOutcome {
  switch (decision.action) {
    case 'allow': return 'clean'
    case 'fail': return 'error'
    case 'block':
      if (decision.reason.startsWith('fail-')) return verdict.status === 'timeout' ? 'limit' : 'error'
      return decision.reason === 'limit' ? 'limit' : 'infected'
  }
}
