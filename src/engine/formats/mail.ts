/// MIME mail (RFC 2045-2049, RFC 5322): every leaf part decoded from base64, quoted-printable or
/// uuencode, nested multiparts followed, attached messages (message/rfc822) yielded whole so they
/// re-enter the walk as mail, and uuencode, yEnc and BinHex blocks inside text parts decoded too.
/// Hand-written: mailparser and postal-mime build whole decoded strings and attachment arrays in
/// memory without limits; this parser yields one part at a time under the budget.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { base64, binhexDecode, quotedPrintable, uudecodeAll, ydecodeAll, type Embedded } from './encodings.js'

interface Entity { readonly headers: Map<string, string>, readonly body: string }

/// Splits headers from body and unfolds header lines (RFC 5322 §2.2.3).
export function parseEntity (text: string): Entity {
  const m = /\r?\n\r?\n/.exec(text)
  const head = m === null ? text : text.slice(0, m.index)
  const body = m === null ? '' : text.slice(m.index + m[0].length)
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function param (value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  const m = new RegExp(`(?:^|;)\\s*${name}\\*?\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value)
  return m?.[1] ?? m?.[2]
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

function * parts (entity: Entity, depth: number, counter: { n: number }): Generator<{ name: string, bytes: Buffer | string, text: boolean }> {
  const type = entity.headers.get('content-type') ?? 'text/plain'
  const mime = type.split(';')[0]?.trim().toLowerCase() ?? 'text/plain'
  const boundary = param(type, 'boundary')
  if (mime.startsWith('multipart/') && boundary !== undefined && depth < maxNesting) {
    const delimiter = new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*\\r?$`, 'm')
    const pieces = entity.body.split(delimiter)
    // split() with a capture group interleaves the captures; the preamble comes first.
    for (let i = 2; i < pieces.length; i += 2) {
      const piece = pieces[i] ?? ''
      if (pieces[i - 1] === '--') break
      // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
      yield * parts(parseEntity(piece.replace(/^\r?\n/, '').replace(/\r?\n$/, '')), depth + 1, counter)
    }
    return
  }
  const n = counter.n++
  const disposition = entity.headers.get('content-disposition')
  const name = param(disposition, 'filename') ?? param(type, 'name') ?? (mime === 'message/rfc822' ? `message-${n}.eml` : `part-${n}`)
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase()
  if (encoding === 'x-uuencode' || encoding === 'uuencode' || encoding === 'x-uue') {
    yield { name, bytes: entity.body, text: true } // decoded as an embedded block below
    return
  }
  const bytes = decodeBody(entity.body, encoding)
  yield { name, bytes, text: mime.startsWith('text/') }
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
