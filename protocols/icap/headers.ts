/// Header blocks of ICAP and of the encapsulated HTTP messages: a small case-insensitive map that
/// keeps the raw order and spelling (so an echoed block can be rebuilt exactly), and the line
/// splitter that turns one complete, size-bounded block into a start line plus Headers.
/// Hand-written because Node's HTTP parser cannot be fed ICAP, and the block is already bounded
/// by the parser's byte limit when it gets here.

const tokenName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const lf = 0x0a
const cr = 0x0d

export class Headers {
  readonly #names: string[] = []
  readonly #values: string[] = []
  readonly #index = new Map<string, number[]>()

  /// Appends a field, keeping earlier ones of the same name (they are read in order).
  append (name: string, value: string): void {
    const key = name.toLowerCase()
    const at = this.#names.length
    this.#names.push(name)
    this.#values.push(value)
    const slots = this.#index.get(key)
    if (slots === undefined) this.#index.set(key, [at])
    else slots.push(at)
  }

  /// The first value of a field, or undefined.
  get (name: string): string | undefined {
    const slots = this.#index.get(name.toLowerCase())
    return slots === undefined ? undefined : this.#values[slots[0] ?? -1]
  }

  /// Every value of a field in arrival order.
  getAll (name: string): string[] {
    return (this.#index.get(name.toLowerCase()) ?? []).map(i => this.#values[i] ?? '')
  }

  has (name: string): boolean { return this.#index.has(name.toLowerCase()) }

  /// Comma-separated list fields (Allow, Connection) as lower-case tokens, across repeated lines.
  tokens (name: string): string[] {
    return this.getAll(name).flatMap(v => v.split(',')).map(t => t.trim().toLowerCase()).filter(t => t !== '')
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
  while (pos < block.length) {
    const nl = block.indexOf(lf, pos)
    if (nl === -1) return 'header block does not end with an empty line'
    const end = nl > pos && block[nl - 1] === cr ? nl - 1 : nl
    const line = block.toString('latin1', pos, end)
    pos = nl + 1
    if (startLine === undefined) {
      if (line === '') return 'empty start line'
      startLine = line
      continue
    }
    if (line === '') {
      flush()
      if (pos !== block.length) return 'bytes after the end of a header block'
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
