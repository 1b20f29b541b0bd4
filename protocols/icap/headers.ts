/// Header blocks of ICAP and of the encapsulated HTTP messages: a small case-insensitive map that
/// keeps the raw order and spelling (so an echoed block can be rebuilt exactly), and the line
/// splitter that turns one complete, size-bounded block into a start line plus Headers.
/// Hand-written because Node's HTTP parser cannot be fed ICAP, and the block is already bounded
/// by the parser's byte limit when it gets here.

const cr = 0x0d

/// A field value (or Encapsulated offset) of decimal digits only, 1 to `maxDigits` of them (no sign,
/// space or exponent): its number, else -1. A loop, not a regex: several per request.
export function decimalValue (text: string, maxDigits: number): number {
  if (text.length === 0 || text.length > maxDigits) return -1
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30
    if (digit < 0 || digit > 9) return -1
    n = n * 10 + digit
  }
  return n
}

export class Headers {
  // One flat array of (lower-case name, name, value) triples, searched linearly: blocks hold a
  // handful of fields, a Map per block costs more to build than the few lookups it would speed up,
  // and one array is one allocation where three parallel ones were three (three blocks a request).
  readonly #fields: string[] = []

  /// Appends a field, keeping earlier ones of the same name (they are read in order).
  append (name: string, value: string): void {
    this.#fields.push(name.toLowerCase(), name, value)
  }

  /// The first value of a field, or undefined.
  get (name: string): string | undefined {
    const at = this.#indexOf(name)
    return at < 0 ? undefined : this.#fields[at + 2]
  }

  /// Where a field's triple starts, trying the name as given first (callers mostly pass it in lower
  /// case already).
  #indexOf (name: string): number {
    const at = this.#find(name)
    if (at >= 0) return at
    const lower = name.toLowerCase()
    return lower === name ? -1 : this.#find(lower)
  }

  #find (lower: string): number {
    const fields = this.#fields
    for (let i = 0; i < fields.length; i += 3) if (fields[i] === lower) return i
    return -1
  }

  /// Every value of a field in arrival order.
  getAll (name: string): string[] {
    const key = name.toLowerCase()
    const fields = this.#fields
    const out: string[] = []
    for (let i = 0; i < fields.length; i += 3) if (fields[i] === key) out.push(fields[i + 2] ?? '')
    return out
  }

  has (name: string): boolean { return this.#indexOf(name) >= 0 }

  /// Comma-separated list fields (Allow, Connection) as lower-case tokens, across repeated lines.
  tokens (name: string): string[] {
    const out: string[] = []
    for (const value of this.getAll(name)) {
      for (const token of value.split(',')) {
        const t = token.trim()
        if (t !== '') out.push(t.toLowerCase())
      }
    }
    return out
  }

  /// Whether a list field (across repeated lines) holds `token` (lower case), as tokens() would
  /// say, without building the list: asked for Allow and Connection on every request.
  hasToken (name: string, token: string): boolean {
    const key = name.toLowerCase()
    const fields = this.#fields
    for (let i = 0; i < fields.length; i += 3) {
      if (fields[i] !== key) continue
      const value = fields[i + 2] ?? ''
      let pos = 0
      while (pos <= value.length) {
        const comma = value.indexOf(',', pos)
        const end = comma < 0 ? value.length : comma
        if (value.slice(pos, end).trim().toLowerCase() === token) return true
        pos = end + 1
      }
    }
    return false
  }

  get size (): number { return this.#fields.length / 3 }

  /// Fields in arrival order with their original spelling.
  * entries (): IterableIterator<[string, string]> {
    const fields = this.#fields
    for (let i = 0; i < fields.length; i += 3) yield [fields[i + 1] ?? '', fields[i + 2] ?? '']
  }
}

export interface ParsedBlock {
  readonly startLine: string
  readonly headers: Headers
}

/// How parseHeaderBlock's reason for a block with too many fields begins.
export const tooManyFields = 'more than'

/// RFC 9110 tchar, by character code: the characters a field name may hold.
const tchar = new Uint8Array(128)
for (const c of "!#$%&'*+.^_`|~-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") tchar[c.charCodeAt(0)] = 1

/// Whether `text` from `start` to `end` (exclusive, non-empty) is a token (a field name).
function isToken (text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c >= 128 || tchar[c] === 0) return false
  }
  return true
}

/// Splits a complete header block (start line, fields, empty line) into its parts. Lines end in
/// CRLF (a bare LF is tolerated); obs-fold continuation lines join the previous field, which is how
/// X-Violations-Found style multi-line values arrive. Returns a reason string when malformed.
/// Three blocks per RESPMOD (ICAP, HTTP request, HTTP response): one latin1 decode, then indexes
/// into that string; a field's name and value are sliced once (no regex, no closure).
export function parseHeaderBlock (block: Buffer, maxCount: number): ParsedBlock | string {
  const text = block.toString('latin1')
  let pos = 0
  let startLine: string | undefined
  const headers = new Headers()
  let pendingName: string | undefined
  let pendingValue = ''
  let count = 0
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos)
    if (nl === -1) return 'header block does not end with an empty line'
    const end = nl > pos && text.charCodeAt(nl - 1) === cr ? nl - 1 : nl
    const start = pos
    pos = nl + 1
    if (startLine === undefined) {
      if (end === start) return 'empty start line'
      startLine = text.slice(start, end)
      continue
    }
    if (end === start) {
      if (pendingName !== undefined) headers.append(pendingName, pendingValue.trim())
      if (pos !== text.length) return 'bytes after the end of a header block'
      return { startLine, headers }
    }
    const first = text.charCodeAt(start)
    if (first === 0x20 || first === 0x09) {
      if (pendingName === undefined) return 'continuation line without a field'
      pendingValue += '\n' + text.slice(start, end)
      continue
    }
    if (++count > maxCount) return `${tooManyFields} ${maxCount} header fields`
    if (pendingName !== undefined) headers.append(pendingName, pendingValue.trim())
    const colon = text.indexOf(':', start)
    if (colon <= start || colon >= end) return 'header field without a name and colon'
    if (!isToken(text, start, colon)) return `invalid header field name '${text.slice(start, Math.min(colon, start + 40))}'`
    pendingName = text.slice(start, colon)
    pendingValue = text.slice(colon + 1, end)
  }
  return 'header block does not end with an empty line'
}
