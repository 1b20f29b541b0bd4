/// PCRE subsignatures of .ldb rules: `[offset:]Trigger/regex/flags`. Compiled with re2js, a pure-JS
/// port of RE2: matching is linear in the input whatever the expression, so a hostile object cannot
/// make a rule backtrack for seconds (ClamAV bounds PCRE with match/recursion limits instead). Why
/// re2js: the `re2` bindings need a native build (node-gyp, a compiler on every CI machine), re2-wasm
/// is unmaintained; JS RegExp backtracks and cannot be stopped mid-match. What RE2 lacks (look-around,
/// back-references, possessive/atomic groups) fails to compile and the rule is counted unsupported
/// with that reason. Bytes are matched as latin1 text, so `\xNN` means the byte NN.
/// ClamAV flags: g (count every match), r (search from the offset on instead of only at it),
/// e (confine the match to offset..offset+maxshift), i s m (as PCRE), A (anchored at the search
/// start), E (`$` only at the end: RE2's default), U (ungreedy: RE2's `(?U)`); x (extended) is
/// unsupported.
/// re2js comes from ../re2.ts, loaded on first use (only a DB with PCRE subsignatures needs it).
import { parseOffset, anyOffset, type Offset } from './offset.js'
import type { PcreSub } from './types.js'
import { re2Flags, re2js, type RE2JS } from '../re2.js'

const pcreShape = /^([^/]*)\/(.+)\/([a-zA-Z]*)$/s

/// Whether a subsignature text is a PCRE one (a `/…/` after an offset and trigger).
export function isPcreText (text: string): boolean {
  const m = pcreShape.exec(text)
  return m !== null && /^([^:]*:)?[0-9&|()=<>,]+$/.test(m[1] ?? '')
}

export function parsePcre (text: string): PcreSub | string {
  const m = pcreShape.exec(text)
  if (m === null) return `bad PCRE subsignature '${text}'`
  const head = m[1] ?? ''
  const colon = head.lastIndexOf(':')
  let offset: Offset = anyOffset
  if (colon >= 0) {
    const o = parseOffset(head.slice(0, colon))
    if (typeof o === 'string') return o
    offset = o
  }
  const trigger = head.slice(colon + 1)
  const flags = m[3] ?? ''
  if (!/^[greismxAEU]*$/.test(flags)) return `bad PCRE flags '${flags}'`
  if (flags.includes('x')) return 'unsupported:PCRE flag x (extended syntax) has no RE2 equivalent'
  const sub: PcreSub = { k: 'pcre', offset, trigger, regex: m[2] ?? '', flags }
  const compiled = compilePcre(sub)
  return typeof compiled === 'string' ? compiled : sub
}

/// The RE2 program of a subsignature, or the reason RE2 cannot run it (`unsupported:…`).
export function compilePcre (sub: PcreSub): RE2JS | string {
  const source = sub.flags.includes('U') ? `(?U)${sub.regex}` : sub.regex
  try {
    return re2js().compile(source, re2Flags(sub.flags))
  } catch (err) {
    return `unsupported:PCRE outside RE2's syntax (look-around, back-references, atomic groups) — ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}`
  }
}

/// How many times the expression matches `text` (latin1 bytes of the layer) inside the window the
/// offset gives ([min, max] for the start; undefined: anywhere), as ClamAV counts: the first match
/// only, or every one with `g`.
export function countPcre (re: RE2JS, sub: PcreSub, text: string, window: readonly [number, number] | undefined): number {
  const flags = sub.flags
  const global = flags.includes('g')
  let input = text
  let from = 0
  let lastStart = text.length
  if (window !== undefined) {
    const [min, max] = window
    from = min
    if (max > min) {
      lastStart = max
      if (flags.includes('e')) input = text.slice(0, max)
    } else if (!flags.includes('r')) {
      lastStart = min // auto-anchored at the offset, as ClamAV does without `r`
    }
  }
  if (flags.includes('A')) lastStart = from
  const m = re.matcher(input)
  let count = 0
  for (let at = from; at <= input.length && m.find(at);) {
    const start = m.start()
    if (start > lastStart) break
    count++
    if (!global) break
    const end = m.end()
    at = end > start ? end : start + 1
  }
  return count
}
