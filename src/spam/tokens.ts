/// The Bayesian classifier's features of one mail: words of the decoded bodies and the subject,
/// words of chosen header fields prefixed with the field's name, link host names, attachment
/// types, and a few shape facts (no text at all, many links). Each feature counts once per mail
/// (presence, as SpamBayes and bogofilter count), so a mail that repeats a word a thousand times
/// weighs as much as one that says it once.
///
/// Left out on purpose: features that restate one fact many times. Fisher's combination treats
/// each token as independent evidence, so the dozen HTML tag names every HTML mail carries (html,
/// body, font, br, p, table …), the words of Content-Type (multipart, alternative, boundary
/// fragments) and the list of header field names present each voted about ten times for "this is
/// HTML/MIME mail" and pushed commercial newsletters that are ham to ≥ 0.99 (SpamBayes does not
/// tokenise tag names either). HTML still counts through its words, links and the rules' facts.
/// Measured by 10-fold cross-validation on the SpamAssassin corpus (bench/spam-accuracy.ts): at
/// the shipped threshold the same catch and ham loss, and ranked by score, 24 more spam of 1,896
/// caught at 0.3 % ham lost (docs/spam.md).
import type { MailView } from './message.js'

/// Header fields whose words are features, each under its own prefix (`from:`, `subject:` …).
/// Received lines give the relay names and networks a sender uses; X-Spam-* and similar verdicts
/// that other filters left are ignored on purpose: the model must not learn another filter's mind.
const wordHeaders = new Set(['subject', 'from', 'reply-to', 'to', 'cc', 'received', 'x-mailer', 'user-agent', 'message-id', 'return-path', 'list-id', 'organization', 'x-originating-ip', 'mime-version', 'content-transfer-encoding'])
const ignoredHeader = /^x-(spam|bogosity|virus|scanwall)/

/// Words: letters, digits and the few marks spammers lean on ($, !, ').
const wordPattern = /[\p{L}\p{N}$][\p{L}\p{N}$'!.-]*[\p{L}\p{N}$!]|[\p{L}\p{N}$]/gu
const maxWord = 20
const maxFeatures = 3000

/// Adds the words of a text. Body words (`pairs`) also give word pairs: "click here" says more
/// than "click" and "here". A word written with capitals also counts as written (FREE is not
/// free); both measured on the SpamAssassin corpus (bench/spam-accuracy.ts): each caught about one
/// spam in a hundred more at the same ham loss.
function addWords (out: Set<string>, prefix: string, text: string, pairs = false): void {
  let previous: string | undefined
  for (const m of text.matchAll(wordPattern)) {
    if (out.size >= maxFeatures) return
    const word = m[0].toLowerCase()
    if (word.length < 3) continue
    // Long runs (encoded junk, hashes) say little by their letters: keep their first letter and
    // length bucket, as SpamBayes' "skip" tokens do.
    if (word.length > maxWord) { out.add(`${prefix}skip:${word[0] ?? ''}${Math.floor(word.length / 10) * 10}`); previous = undefined; continue }
    out.add(prefix + word)
    if (word !== m[0]) out.add(`${prefix}C:${m[0]}`)
    if (pairs && previous !== undefined) out.add(`B:${previous} ${word}`)
    previous = word
  }
}

function host (url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#:@\s]+@)?([^/?#:\s]+)/i.exec(url)
  return m?.[2]?.toLowerCase()
}

/// The header-field tokens of a feature set (`from:…`, `received:…`, `subject:…` …): who sent the
/// mail, through which relays, with which software. The filter reads the model a second time on
/// these alone, so that a sender's own history is not outvoted by body words it shares with spam.
export function headerTokens (tokens: ReadonlySet<string>): Set<string> {
  const out = new Set<string>()
  for (const t of tokens) {
    const colon = t.indexOf(':')
    if (colon > 0 && wordHeaders.has(t.slice(0, colon))) out.add(t)
  }
  return out
}

/// The features of one mail.
export function tokensOf (mail: MailView): Set<string> {
  const out = new Set<string>()
  for (const [name, value] of mail.headers) {
    if (ignoredHeader.test(name)) continue
    if (wordHeaders.has(name)) addWords(out, `${name}:`, value)
  }
  for (const text of mail.texts) addWords(out, '', text, true)
  for (const url of mail.urls) {
    const h = host(url)
    if (h === undefined) continue
    // Every suffix of the host: a.b.example.com → example.com and com too.
    const labels = h.split('.')
    for (let i = Math.max(0, labels.length - 4); i < labels.length; i++) out.add(`url:${labels.slice(i).join('.')}`)
    if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) out.add('url:ip-literal')
  }
  for (const a of mail.attachments) out.add(`part:${a.mime}`)
  const textChars = mail.texts.reduce((n, t) => n + t.length, 0)
  out.add(`shape:text${textChars === 0 ? '0' : Math.min(5, Math.floor(Math.log10(textChars)))}`)
  out.add(`shape:urls${Math.min(20, mail.urls.length) >> 2}`)
  return out
}
