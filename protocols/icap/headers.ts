/// Header blocks of ICAP and of the encapsulated HTTP messages: a small case-insensitive map that
/// keeps the raw order and spelling (so an echoed block can be rebuilt exactly), and the line
/// splitter that turns one complete, size-bounded block into a start line plus Headers.
/// Hand-written because Node's HTTP parser cannot be fed ICAP, and the block is already bounded
/// by the parser's byte limit when it gets here.

const tokenName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const cr = 0x0d

export class Headers {
  // Parallel arrays, searched linearly: blocks hold a handful of fields, and a Map per block costs
  // more to build than the few lookups it would speed up.
  readonly #names: string[] = []
  readonly #lower: string[] = []
  readonly #values: string[] = []

  /// Appends a field, keeping earlier ones of the same name (they are read in order).
  append (name: string, value: string): void {
    this.#names.push(name)
    this.#lower.push(name.toLowerCase())
    this.#values.push(value)
  }

  /// The first value of a field, or undefined.
  get (name: string): string | undefined {
    const at = this.#lower.indexOf(name.toLowerCase())
    return at < 0 ? undefined : this.#values[at]
  }

  /// Every value of a field in arrival order.
  getAll (name: string): string[] {
    const key = name.toLowerCase()
    const out: string[] = []
    for (let i = 0; i < this.#lower.length; i++) if (this.#lower[i] === key) out.push(this.#values[i] ?? '')
    return out
  }

  has (name: string): boolean { return this.#lower.includes(name.toLowerCase()) }

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

  get size (): number { return this.#names.length }

  /// Fields in arrival order with their original spelling.
  * entries (): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#names.length; i++) yield [this.#names[i] ?? '', this.#values[i] ?? '']
  }
}

export interface ParsedBlock {
  readonly startLine: string
  readonly headers: Headers
}

/// Splits a complete header block (start line, fields, empty line) into its parts. Lines end in
/// CRLF (a bare LF is tolerated); obs-fold continuation lines join the previous field, which is how
/// X-Violations-Found style multi-line values arrive. Returns a reason string when malformed.
export function parseHeaderBlock (block: Buffer, maxCount: number): ParsedBlock | string {
  // One latin1 decode for the whole block; lines are then cheap string slices.
  const text = block.toString('latin1')
  let pos = 0
  let startLine: string | undefined
  const headers = new Headers()
  let pendingName: string | undefined
  let pendingValue = ''
  let count = 0
  const flush = (): void => {
    if (pendingName !== undefined) headers.append(pendingName, pendingValue.trim())
    pendingName = undefined
  }
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos)
    if (nl === -1) return 'header block does not end with an empty line'
    const end = nl > pos && text.charCodeAt(nl - 1) === cr ? nl - 1 : nl
    const line = text.slice(pos, end)
    pos = nl + 1
    if (startLine === undefined) {
      if (line === '') return 'empty start line'
      startLine = line
      continue
    }
    if (line === '') {
      flush()
      if (pos !== text.length) return 'bytes after the end of a header block'
      return { startLine, headers }
    }
    const first = line.charCodeAt(0)
    if (first === 0x20 || first === 0x09) {
      if (pendingName === undefined) return 'continuation line without a field'
      pendingValue += '\n' + line
      continue
    }
    if (++count > maxCount) return `more than ${maxCount} header fields`
    flush()
    const colon = line.indexOf(':')
    if (colon <= 0) return 'header field without a name and colon'
    const name = line.slice(0, colon)
    if (!tokenName.test(name)) return `invalid header field name '${name.slice(0, 40)}'`
    pendingName = name
    pendingValue = line.slice(colon + 1)
  }
  return 'header block does not end with an empty line'
}
