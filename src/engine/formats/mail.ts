/// MIME mail (RFC 2045-2049, RFC 5322): every leaf part decoded from base64, quoted-printable or
/// uuencode, nested multiparts followed, attached messages (message/rfc822) yielded whole so they
/// re-enter the walk as mail, and uuencode, yEnc and BinHex blocks inside text parts decoded too.
/// Header tricks that hide a part from one reader are read the widest way: RFC 5322 comments are
/// dropped from header names and values, and every boundary of every multipart Content-Type is split on.
/// Hand-written: mailparser and postal-mime build whole decoded strings and attachment arrays in
/// memory without limits; this parser yields one part at a time under the budget.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { base64, binhexDecode, quotedPrintable, uudecodeAll, ydecodeAll, type Embedded } from './encodings.js'

/// `headers` keeps the first value of each field; `all` every value in order (a second Content-Type
/// is how some mails hide a part from one reader and show it to another).
export interface Entity { readonly headers: Map<string, string>, readonly all: Map<string, string[]>, readonly body: string }

/// Removes RFC 5322 comments — parenthesised, nestable, with backslash escapes — outside quoted
/// strings. Mail readers drop them, so `Content-Type(x): multipart/mixed` names Content-Type.
export function stripComments (text: string): string {
  if (!text.includes('(')) return text
  let out = ''
  let depth = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\' && (depth > 0 || quoted)) { if (depth === 0) out += c + (text[i + 1] ?? ''); i++; continue }
    if (depth === 0 && c === '"') quoted = !quoted
    if (!quoted && c === '(') { depth++; continue }
    if (!quoted && c === ')' && depth > 0) { depth--; continue }
    if (depth === 0) out += c
  }
  return out
}

/// Splits headers from body and unfolds header lines (RFC 5322 §2.2.3).
export function parseEntity (text: string): Entity {
  const m = /\r?\n\r?\n/.exec(text)
  const head = m === null ? text : text.slice(0, m.index)
  const body = m === null ? '' : text.slice(m.index + m[0].length)
  const headers = new Map<string, string>()
  const all = new Map<string, string[]>()
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const key = stripComments(line.slice(0, colon)).trim().toLowerCase()
    const value = stripComments(line.slice(colon + 1)).trim()
    if (!headers.has(key)) headers.set(key, value)
    const values = all.get(key)
    if (values === undefined) all.set(key, [value])
    else values.push(value)
  }
  return { headers, all, body }
}

const paramPattern = (name: string): RegExp => new RegExp(`(?:^|;)\\s*${name}\\*?\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'gi')

function param (value: string | undefined, name: string): string | undefined {
  return value === undefined ? undefined : params(value, name)[0]
}

/// Every value of a parameter (a header may name it twice: `boundary=X; boundary=Y`).
function params (value: string, name: string): string[] {
  return [...value.matchAll(paramPattern(name))].map(m => m[1] ?? m[2] ?? '').filter(v => v !== '')
}

/// Boundaries tried per entity: each one re-splits the body, so nested entities with many would
/// multiply the work by this number per level.
const maxBoundaries = 4

/// The boundaries a multipart entity may use: every boundary of every multipart Content-Type
/// header. Readers disagree on which one wins, so each is split on and every part found is scanned.
function boundaries (entity: Entity): string[] {
  const multipart = (entity.all.get('content-type') ?? []).filter(v => /^\s*multipart\//i.test(v))
  return [...new Set(multipart.flatMap(v => params(v, 'boundary')))].slice(0, maxBoundaries)
}

function decodeBody (body: string, encoding: string): Buffer {
  switch (encoding) {
    case 'base64': return base64(body)
    case 'quoted-printable': return quotedPrintable(body)
    default: return Buffer.from(body, 'latin1')
  }
}

/// Binary blocks hidden in a text part: uuencode, yEnc, BinHex.
export function embeddedBlocks (text: string, cap: number): Embedded[] {
  const out: Embedded[] = []
  if (/^begin(?:-base64)? [0-7]{3,4} /m.test(text)) out.push(...uudecodeAll(text, cap))
  if (text.includes('=ybegin ')) out.push(...ydecodeAll(text, cap))
  if (text.includes('(This file must be converted with BinHex')) out.push(...binhexDecode(text, cap))
  return out
}

const maxNesting = 32

/// The parts between the delimiters of one boundary, up to its close delimiter.
function * multipart (body: string, boundary: string, depth: number, counter: { n: number }): Generator<Part> {
  const delimiter = new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*\\r?$`, 'm')
  const pieces = body.split(delimiter)
  // split() with a capture group interleaves the captures; the preamble comes first.
  for (let i = 2; i < pieces.length; i += 2) {
    const piece = pieces[i] ?? ''
    if (pieces[i - 1] === '--') break
    // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    yield * parts(parseEntity(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, '')), depth + 1, counter)
  }
}

/// One leaf part: its file name, decoded bytes (the raw text of a uuencoded part), whether it is
/// text, and its media type and parameters (the spam filter reads `mime` and `type`'s charset).
export interface Part { readonly name: string, readonly bytes: Buffer | string, readonly text: boolean, readonly mime: string, readonly type: string }

function * parts (entity: Entity, depth: number, counter: { n: number }): Generator<Part> {
  const type = entity.headers.get('content-type') ?? 'text/plain'
  const mime = type.split(';')[0]?.trim().toLowerCase() ?? 'text/plain'
  const found = boundaries(entity)
  if (found.length > 0 && depth < maxNesting) {
    for (const boundary of found) yield * multipart(entity.body, boundary, depth, counter)
    return
  }
  const n = counter.n++
  const disposition = entity.headers.get('content-disposition')
  const name = param(disposition, 'filename') ?? param(type, 'name') ?? (mime === 'message/rfc822' ? `message-${n}.eml` : `part-${n}`)
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase()
  if (encoding === 'x-uuencode' || encoding === 'uuencode' || encoding === 'x-uue') {
    yield { name, bytes: entity.body, text: true, mime, type } // decoded as an embedded block below
    return
  }
  const bytes = decodeBody(entity.body, encoding)
  yield { name, bytes, text: mime.startsWith('text/'), mime, type }
}

/// Every leaf part of a parsed message, decoded, in order (the spam filter's view of a mail).
export function leafParts (entity: Entity): Generator<Part> {
  return parts(entity, 0, { n: 0 })
}

/// Yields each part of one message, decoded; text parts also yield their embedded blocks.
export async function * mailParts (text: string, budget: ScanBudget): AsyncIterable<Layer> {
  const cap = budget.limits.maxFileBytes
  for (const part of parts(parseEntity(text), 0, { n: 0 })) {
    if (!budget.alive()) return
    const blocks = typeof part.bytes === 'string' || part.text ? embeddedBlocks(typeof part.bytes === 'string' ? part.bytes : part.bytes.toString('latin1'), cap) : []
    const own = typeof part.bytes === 'string' ? [] : [{ name: part.name, bytes: part.bytes }]
    // Blocks first: they are the files; the text around them is scanned as the part itself.
    for (const child of [...blocks, ...own]) {
      if (child.bytes.length === 0) continue
      if (!budget.consume(child.bytes.length, 0)) { if (!budget.alive()) return; continue }
      yield { name: child.name, source: new MemorySource(child.bytes) }
    }
  }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const text = Buffer.from(await source.read(0, source.size)).toString('latin1')
  yield * mailParts(text, budget)
}

export const mailHandler: FormatHandler = { type: 'mail', extract }
