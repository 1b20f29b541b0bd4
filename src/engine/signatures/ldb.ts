/// .ldb logical signatures: `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;…`.
/// Subsignatures: `[offset:]hex[::modifiers]` (i nocase, w wide, a ascii, f fullword), PCRE
/// (`[offset:]Trigger/regex/flags`, pcre.ts) and byte compare (`n(>>off#opts#cmp)`, bytecmp.ts).
/// The TDB is tdb.ts. A rule that needs more than the streaming matcher checks (executable offsets,
/// anchors, fullword, PCRE, byte compare, executable or container conditions) is marked `ext`: its
/// hex subsignatures still feed the anchor scan, and matcher/ext.ts decides the rule per layer.
/// Macro subsignatures (`${n-m}id$`) are unsupported (they need .ndb macro groups).
import { parseHex, type Pattern } from './hex.js'
import { anyOffset, isExecutableOffset, parseOffset, type Offset } from './offset.js'
import { isPcreText, parsePcre } from './pcre.js'
import { isByteCompareText, parseByteCompare } from './bytecmp.js'
import { parseTdb } from './tdb.js'
import { parseExpr } from '../matcher/logic.js'
import type { HexSub, LogicalSignature, SubSignature } from './types.js'

function parseHexSub (text: string): HexSub | string {
  let body = text
  let mods = ''
  const modAt = text.indexOf('::')
  if (modAt >= 0) { body = text.slice(0, modAt); mods = text.slice(modAt + 2) }
  if (!/^[iwaf]*$/.test(mods)) return `bad subsignature modifiers '${mods}'`
  let offset: Offset = anyOffset
  const colon = body.indexOf(':')
  if (colon >= 0) {
    const o = parseOffset(body.slice(0, colon))
    if (typeof o === 'string') return o
    offset = o
    body = body.slice(colon + 1)
  }
  const nocase = mods.includes('i')
  const wide = mods.includes('w')
  const variants = wide && mods.includes('a') ? [false, true] : [wide]
  const patterns: Pattern[] = []
  for (const w of variants) {
    const p = parseHex(body, { nocase, wide: w })
    if (typeof p === 'string') return p
    patterns.push(p)
  }
  return { k: 'hex', offset, patterns, wide: variants, fullword: mods.includes('f') }
}

function parseSub (text: string, index: number): SubSignature | string {
  if (/^\$\{\d+-\d+\}\d+\$$/.test(text)) return 'unsupported:macro subsignature (needs .ndb macro groups)'
  if (isPcreText(text)) {
    const sub = parsePcre(text)
    if (typeof sub === 'string') return sub
    const trigger = parseExpr(sub.trigger, index)
    return typeof trigger === 'string' ? `PCRE trigger: ${trigger}` : sub
  }
  if (isByteCompareText(text)) {
    const sub = parseByteCompare(text)
    if (typeof sub === 'string') return sub
    return sub.trigger < index ? sub : `byte compare trigger ${sub.trigger} is not an earlier subsignature`
  }
  return parseHexSub(text)
}

function needsExt (sub: SubSignature): boolean {
  if (sub.k !== 'hex') return true
  return sub.fullword || isExecutableOffset(sub.offset) || sub.patterns.some(p => p.left !== undefined || p.right !== undefined)
}

export function parseLogicalLine (line: string): LogicalSignature | string {
  const fields = line.split(';')
  const [name = '', tdbText = '', expression = ''] = fields
  const subTexts = fields.slice(3)
  if (fields.length < 4 || name === '' || expression === '') return 'expected Name;TargetDescriptionBlock;LogicalExpression;Subsig0[;…]'
  const tdb = parseTdb(tdbText)
  if (typeof tdb === 'string') return tdb
  const subs: SubSignature[] = []
  for (const [i, text] of subTexts.entries()) {
    const sub = parseSub(text, i)
    if (typeof sub === 'string') return sub.startsWith('unsupported:') ? sub : `subsignature ${i}: ${sub}`
    subs.push(sub)
  }
  if (!subs.some(s => s.k === 'hex')) return 'a logical signature needs at least one hex subsignature'
  const expr = parseExpr(expression, subs.length)
  if (typeof expr === 'string') return expr
  const ext = subs.some(needsExt) || Object.keys(tdb.conditions).length > 0
  return { name, target: tdb.target, fileSize: tdb.fileSize, conditions: tdb.conditions, expression, subs, ext, source: line }
}
