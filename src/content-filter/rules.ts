/// Outgoing content rules: what to look for (keywords, a phrase list, an RE2 expression, or one
/// of the detectors: card numbers, IBANs) and what to do when found. Actions, mildest first: `log`
/// (deliver, record), `archive` (keep a copy, deliver), `delete` (accept and drop), `quarantine`
/// (keep, do not deliver), `block` (refuse). When several rules hit, the strongest action wins.
import { re2Flags, re2js, type RE2JS } from '../engine/re2.js'
import { findCardNumbers, findIbans } from './detectors.js'

export const contentActions = ['log', 'archive', 'delete', 'quarantine', 'block'] as const
export type ContentAction = typeof contentActions[number]
export type NotifyWho = 'sender' | 'recipients' | 'admin'

export interface ContentRuleSpec {
  readonly name: string
  readonly action: ContentAction
  /// Any of these words or phrases (whole words, case-insensitive).
  readonly words?: readonly string[]
  /// An RE2 expression (linear time); flags i, m, s.
  readonly regex?: string
  readonly flags?: string
  /// A detector: 'card' (Luhn-checked payment card numbers) or 'iban' (mod-97-checked IBANs).
  readonly detect?: 'card' | 'iban'
  /// Matches needed before the rule hits (default 1): e.g. 5 card numbers, not one.
  readonly minMatches?: number
  /// Who is told, from the template named `template` (default: the rule's action).
  readonly notify?: readonly NotifyWho[]
  readonly template?: string
}

export interface CompiledContentRule {
  readonly spec: ContentRuleSpec
  /// How many matches the text holds (counting stops at `minMatches`).
  count (text: string): number
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function counter (re: RE2JS, cap: number): (text: string) => number {
  return text => {
    const m = re.matcher(text)
    let n = 0
    while (n < cap && m.find()) n++
    return n
  }
}

export function compileContentRule (spec: ContentRuleSpec): CompiledContentRule {
  const fail = (why: string): never => { throw new Error(`content rule ${String(spec.name)}: ${why}`) }
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(spec.name)) fail('name must be 1-64 letters, digits, _ . -')
  if (!(contentActions as readonly string[]).includes(spec.action)) fail(`action must be one of ${contentActions.join(', ')}`)
  const kinds = [spec.words, spec.regex, spec.detect].filter(k => k !== undefined).length
  if (kinds !== 1) fail('needs exactly one of words, regex, detect')
  const min = spec.minMatches ?? 1
  if (!Number.isInteger(min) || min < 1) fail('minMatches must be a whole number ≥ 1')
  for (const who of spec.notify ?? []) if (!['sender', 'recipients', 'admin'].includes(who)) fail(`notify: '${String(who)}' is not sender, recipients or admin`)
  if (spec.detect === 'card') return { spec, count: text => findCardNumbers(text, min).length }
  if (spec.detect === 'iban') return { spec, count: text => findIbans(text, min).length }
  if (spec.detect !== undefined) fail(`detect: '${String(spec.detect)}' is not card or iban`)
  let source: string
  let flags = 'i'
  if (spec.words !== undefined) {
    if (!Array.isArray(spec.words) || spec.words.length === 0 || spec.words.some(w => typeof w !== 'string' || w.trim() === '')) fail('words must be a list of words')
    source = `\\b(?:${spec.words.map(w => w.trim().split(/\s+/).map(escape).join('\\s+')).join('|')})\\b`
  } else {
    source = spec.regex ?? ''
    const f = spec.flags ?? ''
    if (!/^[ims]*$/.test(f)) fail(`flags '${f}': only i, m, s`)
    flags = f
  }
  try {
    return { spec, count: counter(re2js().compile(source, re2Flags(flags)), min) }
  } catch (err) {
    return fail(`expression does not compile: ${(err as Error).message}`)
  }
}

/// The stronger of two actions.
export function stronger (a: ContentAction, b: ContentAction): ContentAction {
  return contentActions.indexOf(a) >= contentActions.indexOf(b) ? a : b
}
