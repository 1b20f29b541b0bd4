/// Spam rules: header and body tests, each with a score. A rule is data — where to look
/// (`subject`, `from`, `header:<name>`, `headers`, `body`, `urls`) and what to look for (any of
/// some whole words, a phrase, or a regular expression compiled by re2js, so matching is linear
/// in the text whatever the expression) — or one of a few named facts computed in code (`fact`).
/// Rule sets are validated when loaded: a bad rule fails with its name and what is wrong.
import { re2Flags, re2js, type RE2JS } from '../engine/re2.js'
import type { MailView } from './message.js'
import { addressOf } from './message.js'

export type RuleTarget = 'subject' | 'from' | 'headers' | 'body' | 'urls' | `header:${string}`

export interface RuleSpec {
  readonly name: string
  readonly score: number
  readonly describe?: string
  readonly target?: RuleTarget
  /// Any of these whole words (case-insensitive).
  readonly words?: readonly string[]
  /// This phrase, whitespace-tolerant, case-insensitive.
  readonly phrase?: string
  /// An RE2 expression; `flags`: i (ignore case), m (multi-line), s (dot matches newline).
  readonly regex?: string
  readonly flags?: string
  /// A fact computed in code, one of `facts` below.
  readonly fact?: string
}

export interface RuleHit { readonly name: string, readonly score: number }

interface CompiledRule { readonly name: string, readonly score: number, readonly test: (mail: MailView, cache: TargetCache) => boolean }

/// Joined target texts of one mail, built once and shared by every rule that reads them.
class TargetCache {
  readonly #mail: MailView
  readonly #texts = new Map<string, string>()
  constructor (mail: MailView) { this.#mail = mail }

  get (target: RuleTarget): string {
    let t = this.#texts.get(target)
    if (t !== undefined) return t
    const mail = this.#mail
    if (target === 'subject') t = mail.subject
    else if (target === 'from') t = mail.from
    else if (target === 'body') t = mail.texts.join('\n')
    else if (target === 'urls') t = mail.urls.join('\n')
    else if (target === 'headers') t = mail.headers.map(([k, v]) => `${k}: ${v}`).join('\n')
    else {
      const name = target.slice('header:'.length).toLowerCase()
      t = mail.headers.filter(([k]) => k === name).map(([, v]) => v).join('\n')
    }
    this.#texts.set(target, t)
    return t
  }
}

const upperRatio = (s: string): number => {
  const letters = s.replace(/[^A-Za-z]/g, '')
  return letters.length < 10 ? 0 : letters.replace(/[^A-Z]/g, '').length / letters.length
}

/// Named facts a rule can test. Each is a few lines of code a regular expression cannot say.
export const facts: Readonly<Record<string, (mail: MailView, cache: TargetCache) => boolean>> = {
  /// An HTML part and no plain text anywhere.
  'html-only': mail => mail.htmlTags.includes('html-part') && mail.texts.length === mail.htmlTags.filter(t => t === 'html-part').length,
  /// Most letters of the subject are capitals.
  'subject-shouting': mail => upperRatio(mail.subject) > 0.7,
  /// Most letters of the body are capitals.
  'body-shouting': (_mail, cache) => upperRatio(cache.get('body').slice(0, 20_000)) > 0.6,
  /// No Message-ID, Date or From field (every mail user agent writes them).
  'missing-message-id': mail => !mail.headers.some(([k]) => k === 'message-id'),
  'missing-date': mail => !mail.headers.some(([k]) => k === 'date'),
  /// Text hidden from the reader (display:none, visibility:hidden) in HTML.
  'html-hidden-text': mail => mail.htmlTags.includes('hidden'),
  /// Links to numeric IP addresses.
  'url-ip-literal': mail => mail.urls.some(u => /^https?:\/\/\d+\.\d+\.\d+\.\d+/i.test(u)),
  /// The From address and the Reply-To address are in different domains.
  'reply-to-other-domain': mail => {
    const reply = mail.headers.find(([k]) => k === 'reply-to')?.[1]
    if (reply === undefined) return false
    const domain = (v: string): string => addressOf(v).split('@')[1] ?? ''
    return domain(reply) !== '' && domain(reply) !== domain(mail.from)
  },
  /// An executable or script attached.
  'executable-attachment': mail => mail.attachments.some(a => /\.(exe|scr|pif|com|bat|cmd|vbs|js|jse|wsf|hta|lnk)$/i.test(a.name)),
  /// No text at all (an image or an attachment alone).
  'no-text': mail => mail.texts.every(t => t.trim() === ''),
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function compileOne (spec: RuleSpec): CompiledRule {
  const fail = (why: string): never => { throw new Error(`spam rule ${spec.name || '(unnamed)'}: ${why}`) }
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(spec.name)) fail('name must be 1-64 letters, digits, _ . -')
  if (typeof spec.score !== 'number' || !Number.isFinite(spec.score)) fail('score must be a number')
  const kinds = [spec.words, spec.phrase, spec.regex, spec.fact].filter(k => k !== undefined).length
  if (kinds !== 1) fail('needs exactly one of words, phrase, regex, fact')
  if (spec.fact !== undefined) {
    const fact = facts[spec.fact]
    if (fact === undefined) fail(`unknown fact '${spec.fact}' (known: ${Object.keys(facts).join(', ')})`)
    return { name: spec.name, score: spec.score, test: fact as CompiledRule['test'] }
  }
  const target: RuleTarget = spec.target ?? 'body'
  if (!/^(subject|from|headers|body|urls|header:[A-Za-z0-9-]+)$/.test(target)) fail(`unknown target '${target}'`)
  let source: string
  let flags = 'i'
  if (spec.words !== undefined) {
    if (!Array.isArray(spec.words) || spec.words.length === 0 || spec.words.some(w => typeof w !== 'string' || w === '')) fail('words must be a list of words')
    source = `\\b(?:${spec.words.map(escape).join('|')})\\b`
  } else if (spec.phrase !== undefined) {
    source = spec.phrase.trim().split(/\s+/).map(escape).join('\\s+')
  } else {
    source = spec.regex ?? ''
    const f = spec.flags ?? ''
    if (!/^[ims]*$/.test(f)) fail(`flags '${f}': only i, m, s`)
    flags = f
  }
  let re: RE2JS
  try {
    re = re2js().compile(source, re2Flags(flags))
  } catch (err) {
    return fail(`expression does not compile: ${(err as Error).message}`)
  }
  return { name: spec.name, score: spec.score, test: (_mail, cache) => re.test(cache.get(target)) }
}

/// A compiled rule set; `evaluate` returns the rules that hit.
export class RuleSet {
  readonly #rules: readonly CompiledRule[]
  readonly size: number

  constructor (specs: readonly RuleSpec[]) {
    const names = new Set<string>()
    this.#rules = specs.map(spec => {
      if (names.has(spec.name)) throw new Error(`spam rule ${spec.name}: defined twice`)
      names.add(spec.name)
      return compileOne(spec)
    })
    this.size = this.#rules.length
  }

  evaluate (mail: MailView): RuleHit[] {
    const cache = new TargetCache(mail)
    const hits: RuleHit[] = []
    for (const rule of this.#rules) if (rule.test(mail, cache)) hits.push({ name: rule.name, score: rule.score })
    return hits
  }
}
