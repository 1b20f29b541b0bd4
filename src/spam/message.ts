/// A mail as the spam filter and the content filter read it: the header fields (unfolded, in
/// order), the decoded text of every text part (base64/quoted-printable undone, the charset
/// applied, HTML turned into text), the names and types of the other parts, and a few facts about
/// the HTML. Built on the engine's MIME walk (src/engine/formats/mail.ts) so both read a mail the
/// way the virus scan does; hand-written HTML-to-text because html-to-text and similar packages
/// build a DOM per message (ten times our cost) and the filters only need the words.
import { leafParts, parseEntity } from '../engine/formats/mail.js'

export interface MailView {
  /// Every header field, lower-case name, unfolded value, in order.
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly subject: string
  readonly from: string
  /// Decoded text of each text part (HTML parts as their text).
  readonly texts: readonly string[]
  /// Tag names and attribute facts seen in HTML parts (`img`, `font`, `a`, `hidden` …), for tokens.
  readonly htmlTags: readonly string[]
  /// Every link target (href/src, and bare http(s) URLs in plain text).
  readonly urls: readonly string[]
  /// Non-text parts: file name and media type.
  readonly attachments: ReadonlyArray<{ readonly name: string, readonly mime: string }>
  readonly bytes: number
}

/// Text parts larger than this are cut: the words past it change no verdict and cost time.
const maxTextChars = 256 * 1024
const maxParts = 64

const entities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®' }

/// &amp; &#65; &#x41; → characters; unknown names are left as written.
export function decodeEntities (text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' '
    }
    return entities[ref.toLowerCase()] ?? whole
  })
}

/// HTML to its visible words: scripts, styles, comments and declarations dropped, tags become spaces (block
/// structure does not matter to a word count), entities decoded. Tag names and link targets are
/// collected on the way.
export function htmlToText (html: string, tags: string[], urls: string[]): string {
  // Comments first (they start with <!), then declarations and processing instructions
  // (<!DOCTYPE html PUBLIC "-//W3C//DTD …">, <?xml …?>): markup, not words a reader sees.
  const body = html.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ').replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[!?][^>]{0,2000}>/g, ' ')
  const text = body.replace(/<\/?([a-z][a-z0-9]{0,15})\b([^>]{0,2000})>/gi, (_, name: string, attrs: string) => {
    const tag = name.toLowerCase()
    if (tags.length < 500) tags.push(tag)
    for (const m of attrs.matchAll(/\b(?:href|src)\s*=\s*["']?([^"'\s>]{1,500})/gi)) if (urls.length < 200) urls.push(m[1] ?? '')
    if (/display\s*:\s*none|visibility\s*:\s*hidden/i.test(attrs) && tags.length < 500) tags.push('hidden')
    return ' '
  })
  return decodeEntities(text)
}

/// Bytes of a text part in its declared charset; UTF-8 when undeclared and valid, else latin1.
function decodeText (bytes: Buffer, type: string): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(type)?.[1]?.toLowerCase()
  const slice = bytes.length > maxTextChars ? bytes.subarray(0, maxTextChars) : bytes
  if (charset !== undefined && charset !== 'us-ascii') {
    try {
      return new TextDecoder(charset).decode(slice)
    } catch { /* an unknown charset name: fall through to the guesses */ }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(slice)
  } catch {
    return slice.toString('latin1')
  }
}

/// RFC 2047 encoded words in a header value (=?charset?B|Q?…?=) decoded.
export function decodeHeader (value: string): string {
  if (!value.includes('=?')) return value
  return value.replace(/=\?([^?]{1,40})\?([bq])\?([^?]*)\?=\s*(?==\?)?/gi, (_, charset: string, enc: string, data: string) => {
    const bytes = enc.toLowerCase() === 'b'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_h, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1')
    try {
      return new TextDecoder(charset.toLowerCase()).decode(bytes)
    } catch {
      return bytes.toString('latin1')
    }
  })
}

/// Reads one message (RFC 5322 bytes). Never throws on malformed mail: what cannot be parsed is
/// read as text.
export function readMail (message: Uint8Array): MailView {
  const raw = Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('latin1')
  const entity = parseEntity(raw)
  const headers: Array<readonly [string, string]> = []
  for (const [name, values] of entity.all) for (const v of values) headers.push([name, decodeHeader(v)])
  const texts: string[] = []
  const htmlTags: string[] = []
  const urls: string[] = []
  const attachments: Array<{ name: string, mime: string }> = []
  let n = 0
  for (const part of leafParts(entity)) {
    if (n++ >= maxParts) break
    const bytes = typeof part.bytes === 'string' ? Buffer.from(part.bytes, 'latin1') : part.bytes
    if (!part.text) { attachments.push({ name: part.name, mime: part.mime }); continue }
    const text = decodeText(bytes, part.type)
    if (part.mime === 'text/html' || (part.mime !== 'text/plain' && /<html|<body|<a\s+href/i.test(text.slice(0, 4096)))) {
      htmlTags.push('html-part')
      texts.push(htmlToText(text, htmlTags, urls))
    } else {
      for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>"')]{1,500}/gi)) if (urls.length < 200) urls.push(m[0])
      texts.push(text)
    }
  }
  const first = (name: string): string => headers.find(([k]) => k === name)?.[1] ?? ''
  return { headers, subject: first('subject'), from: first('from'), texts, htmlTags, urls, attachments, bytes: message.byteLength }
}

/// The bare address in a From/Return-Path value: `"Ann" <ann@example.org>` → `ann@example.org`.
export function addressOf (value: string): string {
  const angle = /<([^<>]*)>/.exec(value)
  const bare = (angle?.[1] ?? value).trim()
  const m = /[^\s"<>@,;]+@[^\s"<>@,;]+/.exec(bare)
  return (m?.[0] ?? bare).toLowerCase()
}
