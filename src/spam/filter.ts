/// The spam filter's one entry point: `SpamFilter.classify(message, envelope, profile)` → score,
/// verdict (ham / suspect / spam), the rules that hit, the action the profile wants and the header
/// fields to add. The score is the sum of the rule scores, the Bayesian classifier's points and
/// the list and DNS blocklist points; the profile's two thresholds cut it into verdicts. The milter
/// adapter (src/milter) calls this at end of message; docs/spam.md says how.
import { readMail, addressOf, type MailView } from './message.js'
import { headerTokens, tokensOf } from './tokens.js'
import { classifyTokens, defaultBayesSettings, type BayesResult, type BayesSettings, type TokenCounts } from './bayes.js'
import type { RuleHit, RuleSet } from './rules.js'

export type SpamVerdict = 'ham' | 'suspect' | 'spam'
export type SpamAction = 'deliver' | 'tag' | 'reject' | 'quarantine' | 'discard'

/// Per-profile thresholds and what to do with spam.
export interface SpamProfile {
  readonly name: string
  /// Score at or above which a mail is suspect (delivered with headers, subject tagged).
  readonly suspectScore: number
  /// Score at or above which a mail is spam (spamAction).
  readonly spamScore: number
  readonly spamAction: 'reject' | 'quarantine' | 'discard'
  /// Put in front of a suspect mail's subject ('' for none).
  readonly subjectTag: string
}

export const defaultSpamProfile: SpamProfile = { name: 'default', suspectScore: 5, spamScore: 9, spamAction: 'reject', subjectTag: '[SPAM?]' }

/// What the MTA told us about the mail (the milter's connect, HELO, MAIL and RCPT steps).
export interface Envelope {
  /// The connecting client's IP address.
  readonly client?: string
  readonly helo?: string
  /// MAIL FROM (may be '' for bounces).
  readonly sender?: string
  readonly recipients?: readonly string[]
  /// The SASL user when the client authenticated.
  readonly authUser?: string
}

export interface SpamResult {
  readonly score: number
  readonly verdict: SpamVerdict
  readonly action: SpamAction
  /// Every rule that hit (lists, DNS blocklists and Bayes as rules too: LIST_*, DNSBL_*, BAYES_*).
  readonly rules: readonly RuleHit[]
  readonly bayes: BayesResult
  /// Header fields to add (X-Spam-Status, X-Spam-Score, X-Spam-Rules), in order.
  readonly headers: ReadonlyArray<readonly [string, string]>
  /// The new Subject when the profile tags suspect mail; undefined to leave it.
  readonly subject?: string
  /// The sender the lists judged (envelope sender, else From).
  readonly sender: string
}

/// Sender and domain lists: -Infinity-like allow and block scores come back as rule hits.
export interface SenderLists { check (sender: string, fromHeader: string): RuleHit[] }
/// DNS blocklists on the connecting address.
export interface AddressLists { check (address: string): Promise<RuleHit[]> }

/// Points the Bayesian probability adds, by band: confident bands weigh most. Tuned by 10-fold
/// cross-validation on the SpamAssassin public corpus (bench/spam-accuracy.ts).
export const bayesBands: ReadonlyArray<{ readonly name: string, readonly from: number, readonly points: number }> = [
  { name: 'BAYES_00', from: 0, points: -5 },
  { name: 'BAYES_05', from: 0.05, points: -1 },
  { name: 'BAYES_20', from: 0.2, points: 0 },
  { name: 'BAYES_50', from: 0.5, points: 2 },
  { name: 'BAYES_80', from: 0.8, points: 5 },
  { name: 'BAYES_95', from: 0.95, points: 7 },
  { name: 'BAYES_99', from: 0.99, points: 9 },
]

/// The header-only reading of the model (headerTokens) adds this share of the same band points,
/// as `BAYES_HDR_*`. Why a second reading: in a whole-mail reading the 150 most telling tokens
/// are nearly all body words, so a newsletter whose text is spam's text scored ≥ 0.99 even when
/// its sender, relays and mailer were known as ham (and a spam's from a known spam source
/// were not heard either). 10-fold cross-validation on the SpamAssassin corpus
/// (bench/spam-accuracy.ts, docs/spam.md): with every message learned, shares 0.3, 0.5 and 1 all
/// cut the errors by a quarter or more at the same ham loss; with the train-on-error model
/// (train.ts), whose probabilities are less extreme, the full share catches 12 more spam of 1,896
/// at the same 8 ham of 4,150 (and ranks better: 1,878 vs 1,875 caught at 0.3 % ham lost).
export const headerBayesShare = 1

function bayesHit (b: BayesResult, prefix = 'BAYES_', share = 1): RuleHit | undefined {
  if (b.untrained) return undefined
  let band = bayesBands[0]
  for (const candidate of bayesBands) if (b.probability >= candidate.from) band = candidate
  return band === undefined || band.points === 0 ? undefined : { name: band.name.replace('BAYES_', prefix), score: band.points * share }
}

const round = (n: number): number => Math.round(n * 10) / 10

export interface SpamFilterParts {
  readonly rules: RuleSet
  readonly model: TokenCounts
  readonly senderLists?: SenderLists
  readonly addressLists?: AddressLists
  readonly bayes?: BayesSettings
}

export class SpamFilter {
  readonly #parts: SpamFilterParts

  constructor (parts: SpamFilterParts) { this.#parts = parts }

  /// Classifies one message. Never throws on malformed mail; a DNS failure counts as not listed.
  async classify (message: Uint8Array, envelope: Envelope = {}, profile: SpamProfile = defaultSpamProfile): Promise<SpamResult> {
    const mail = readMail(message)
    const listed = envelope.client === undefined || this.#parts.addressLists === undefined ? [] : await this.#parts.addressLists.check(envelope.client)
    return this.judge(mail, envelope, profile, listed)
  }

  /// The synchronous part of classify, for a mail already read (and the DNS hits already known).
  judge (mail: MailView, envelope: Envelope, profile: SpamProfile, extra: readonly RuleHit[] = []): SpamResult {
    const sender = envelope.sender !== undefined && envelope.sender !== '' ? addressOf(envelope.sender) : addressOf(mail.from)
    const hits: RuleHit[] = [...(this.#parts.senderLists?.check(sender, mail.from) ?? []), ...extra, ...this.#parts.rules.evaluate(mail)]
    const settings = this.#parts.bayes ?? defaultBayesSettings
    const tokens = tokensOf(mail)
    const bayes = classifyTokens(tokens, this.#parts.model, settings)
    const b = bayesHit(bayes)
    if (b !== undefined) hits.push(b)
    const h = bayesHit(classifyTokens(headerTokens(tokens), this.#parts.model, settings), 'BAYES_HDR_', headerBayesShare)
    if (h !== undefined) hits.push(h)
    const score = round(hits.reduce((sum, h) => sum + h.score, 0))
    const verdict: SpamVerdict = score >= profile.spamScore ? 'spam' : score >= profile.suspectScore ? 'suspect' : 'ham'
    const action: SpamAction = verdict === 'spam' ? profile.spamAction : verdict === 'suspect' ? 'tag' : 'deliver'
    const names = hits.map(h => h.name).join(',')
    const status = `${verdict === 'ham' ? 'No' : 'Yes'}, score=${score} suspect=${profile.suspectScore} spam=${profile.spamScore} verdict=${verdict}`
    const headers: Array<readonly [string, string]> = [['X-Spam-Status', status], ['X-Spam-Score', String(score)], ['X-Spam-Rules', names === '' ? 'none' : names]]
    const subject = verdict === 'suspect' && profile.subjectTag !== '' && !mail.subject.startsWith(profile.subjectTag) ? `${profile.subjectTag} ${mail.subject}` : undefined
    return { score, verdict, action, rules: hits, bayes, headers, sender, ...(subject === undefined ? {} : { subject }) }
  }
}
