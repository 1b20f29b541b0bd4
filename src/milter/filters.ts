/// The milter listener's mail filters from config `milter.filters` and the node's mail filters
/// (src/spam/setup.ts): the spam step when spam.enabled and `filters.spam`, with the listener's
/// profile (`filters.spamProfile`, which must exist: a bad name fails the start naming the key),
/// the content step when contentFilter.enabled and `filters.content`, both behind the direction
/// check (`filters.ourNetworks` or SASL-authenticated: outgoing).
import type { ConfigTree } from '../../config/load.js'
import type { MailFilters } from '../spam/setup.js'
import { ScanwallError } from '../errors.js'
import { milterFilters, type MilterFilters } from './filter-step.js'
import { spamStep } from './spam-step.js'
import { contentStep, type SendNotice } from './content-step.js'
import { networkMatcher } from '../../config/networks.js'
import type { ReplyTemplate } from './handler.js'

/// `550 5.7.1 text` as a code and a text (the schema checked the form).
export function replyTemplate (reply: string): ReplyTemplate {
  const at = reply.indexOf(' ')
  return { code: reply.slice(0, at), text: reply.slice(at + 1) }
}

export function filtersOf (config: ConfigTree['milter'], mail: MailFilters | undefined, send: SendNotice | undefined): MilterFilters | undefined {
  if (mail === undefined) return undefined
  const f = config.filters
  const results = mail.results
  let spam
  if (f.spam && mail.spam !== undefined) {
    const profile = mail.profiles.get(f.spamProfile)
    if (profile === undefined) throw new ScanwallError('CONFIG_INVALID', `milter.filters.spamProfile: no spam profile named "${f.spamProfile}" (spam.profiles)`)
    spam = { maxBytes: f.spamMaxBytes, run: spamStep({ filter: mail.spam, profile, reply: replyTemplate(f.spamReply), results }) }
  }
  const content = f.content && mail.content !== undefined
    ? { maxBytes: f.contentMaxBytes, run: contentStep({ filter: mail.content, reply: replyTemplate(f.contentReply), results, send, admin: config.notify.admin }) }
    : undefined
  return milterFilters(networkMatcher(f.ourNetworks), { spam, content })
}
