/// The `Encapsulated:` header (RFC 3507 §4.4.1): which HTTP parts follow the ICAP header and where
/// each starts. Offsets must start at 0, ascend strictly, name each entity once, end with exactly one
/// body entity, and fit the method; the parser then checks that each header part really ends where
/// the next offset says (a stale offset is the classic cause of Squid's "ICAP protocol error").

export type HeaderEntity = 'req-hdr' | 'res-hdr'
export type BodyEntity = 'req-body' | 'res-body' | 'null-body' | 'opt-body'
export type Entity = HeaderEntity | BodyEntity

export interface Section { readonly name: HeaderEntity, readonly offset: number, readonly length: number }

export interface Encapsulated {
  /// Header parts in wire order with their lengths (the differences between offsets).
  readonly headers: readonly Section[]
  readonly body: BodyEntity
  /// Offset of the body entity: the total length of the header parts before it.
  readonly bodyOffset: number
}

const allowed: ReadonlyMap<string, readonly Entity[]> = new Map<string, readonly Entity[]>([
  ['REQMOD', ['req-hdr', 'req-body', 'null-body']],
  ['RESPMOD', ['req-hdr', 'res-hdr', 'res-body', 'null-body']],
  ['OPTIONS', ['opt-body', 'null-body']],
])

const rank: ReadonlyMap<Entity, number> = new Map<Entity, number>([
  ['req-hdr', 0], ['res-hdr', 1], ['req-body', 2], ['res-body', 2], ['null-body', 2], ['opt-body', 2],
])

function isBody (name: Entity): name is BodyEntity {
  return name === 'req-body' || name === 'res-body' || name === 'null-body' || name === 'opt-body'
}

/// An Encapsulated value that carries nothing: OPTIONS without the header, header-only replies.
export const nullBody: Encapsulated = { headers: [], body: 'null-body', bodyOffset: 0 }

/// Parses and validates one Encapsulated value for `method`; a string is the reason it is invalid.
/// `maxSection` bounds each header part, so a huge offset is refused before any byte is read.
export function parseEncapsulated (value: string, method: string, maxSection: number): Encapsulated | string {
  const names = allowed.get(method)
  if (names === undefined) return `no Encapsulated form for ${method}`
  const entries: Array<{ name: Entity, offset: number }> = []
  for (const item of value.split(',')) {
    const eq = item.indexOf('=')
    if (eq < 0) return `Encapsulated item '${item.trim().slice(0, 40)}' has no offset`
    const name = item.slice(0, eq).trim().toLowerCase() as Entity
    const digits = item.slice(eq + 1).trim()
    if (!(names as readonly string[]).includes(name)) return `Encapsulated entity '${name.slice(0, 20)}' not allowed in ${method}`
    if (!/^[0-9]{1,15}$/.test(digits)) return `Encapsulated offset '${digits.slice(0, 20)}' is not a decimal number`
    entries.push({ name, offset: Number(digits) })
  }
  if (entries.length === 0) return 'empty Encapsulated header'
  if (entries[0]?.offset !== 0) return 'Encapsulated offsets must start at 0'
  const headers: Section[] = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    if (entry === undefined) break
    const next = entries[i + 1]
    if (isBody(entry.name)) {
      if (next !== undefined) return `${entry.name} must be the last Encapsulated entity`
      return { headers, body: entry.name, bodyOffset: entry.offset }
    }
    if (next === undefined) return 'Encapsulated has no body entity (req-body, res-body, null-body)'
    if ((rank.get(next.name) ?? 0) <= (rank.get(entry.name) ?? 0)) return `Encapsulated entity ${next.name} out of order or repeated`
    if (next.offset <= entry.offset) return 'Encapsulated offsets must ascend'
    const length = next.offset - entry.offset
    if (length > maxSection) return `encapsulated ${entry.name} of ${length} bytes is over the limit of ${maxSection}`
    headers.push({ name: entry.name, offset: entry.offset, length })
  }
  return 'Encapsulated has no body entity'
}

/// Renders an Encapsulated value for a response from its parts' lengths, in order.
export function formatEncapsulated (parts: ReadonlyArray<readonly [HeaderEntity, number]>, body: BodyEntity): string {
  let offset = 0
  let out = ''
  for (const [name, length] of parts) {
    out += `${name}=${offset}, `
    offset += length
  }
  return `${out}${body}=${offset}`
}
