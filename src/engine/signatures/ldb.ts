/// .ldb logical signatures: `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;…`.
/// Subsignatures are `[offset:]hex[::modifiers]` (i nocase, w wide, a ascii, f fullword ignored).
/// Supported TDB keys: Target, FileSize, Engine (ignored). Rules whose TDB needs PE or container
/// context (EntryPoint, NumberOfSections, Container, Intermediates, IconGroup) and PCRE or
/// byte-compare subsignatures are reported as unsupported rather than matched loosely.
import { parseHex, type Pattern } from './hex.js'
import { anyOffset, parseOffset, type Offset } from './offset.js'
import { isKnownTarget } from './target.js'
import { parseExpr } from '../matcher/logic.js'
import type { LogicalSignature, SubSignature } from './types.js'

const unsupportedTdb = new Set(['EntryPoint', 'NumberOfSections', 'Container', 'Intermediates', 'IconGroup1', 'IconGroup2', 'HandlerType'])

function parseSub (text: string): SubSignature | string {
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
  if (body.includes('/')) return 'unsupported:PCRE subsignature'
  if (/^\d+\(/.test(body) && /[<>=#]/.test(body)) return 'unsupported:byte-compare subsignature'
  const nocase = mods.includes('i')
  const wide = mods.includes('w')
  const variants = wide && mods.includes('a') ? [false, true] : [wide]
  const patterns: Pattern[] = []
  for (const w of variants) {
    const p = parseHex(body, { nocase, wide: w })
    if (typeof p === 'string') return p
    patterns.push(p)
  }
  return { offset, patterns }
}

export function parseLogicalLine (line: string): LogicalSignature | string {
  const fields = line.split(';')
  const [name = '', tdb = '', expression = ''] = fields
  const subTexts = fields.slice(3)
  if (fields.length < 4 || name === '' || expression === '') return 'expected Name;TargetDescriptionBlock;LogicalExpression;Subsig0[;…]'
  let target = 0
  let fileSize: [number, number] | undefined
  for (const item of tdb.split(',')) {
    const [key = '', value = ''] = item.split(':')
    if (key === 'Target') {
      if (!/^\d+$/.test(value)) return `bad Target '${value}'`
      target = Number(value)
      if (!isKnownTarget(target)) return `unsupported:target type ${value}`
    } else if (key === 'FileSize') {
      const m = /^(\d+)-(\d+)$/.exec(value)
      if (m === null) return `bad FileSize '${value}'`
      fileSize = [Number(m[1]), Number(m[2])]
    } else if (key === 'Engine') {
      if (!/^\d+(-\d+)?$/.test(value)) return `bad Engine '${value}'`
    } else if (unsupportedTdb.has(key)) {
      return `unsupported:TDB key ${key}`
    } else {
      return `unknown target description key '${key}'`
    }
  }
  const subs: SubSignature[] = []
  for (const [i, text] of subTexts.entries()) {
    const sub = parseSub(text)
    if (typeof sub === 'string') return sub.startsWith('unsupported:') ? sub : `subsignature ${i}: ${sub}`
    subs.push(sub)
  }
  const expr = parseExpr(expression, subs.length)
  if (typeof expr === 'string') return expr
  return { name, target, fileSize, expression, subs }
}
