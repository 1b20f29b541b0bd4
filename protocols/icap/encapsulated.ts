/// The `Encapsulated:` header (RFC 3507 §4.4.1): which HTTP parts follow the ICAP header and where
/// each starts. Offsets must start at 0, ascend strictly, name each entity once, end with exactly one
/// body entity, and fit the method; the parser then checks that each header part really ends where
/// the next offset says (a stale offset is the classic cause of Squid's "ICAP protocol error").
import { decimalValue } from './headers.js'

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

/// Entities each method may carry, and each entity's place in the order (headers before the body).
const allowed: Readonly<Record<string, readonly Entity[]>> = {
  REQMOD: ['req-hdr', 'req-body', 'null-body'],
  RESPMOD: ['req-hdr', 'res-hdr', 'res-body', 'null-body'],
  OPTIONS: ['opt-body', 'null-body'],
}

function rank (name: Entity): number {
  return name === 'req-hdr' ? 0 : name === 'res-hdr' ? 1 : 2
}

function isBody (name: Entity): name is BodyEntity {
  return name === 'req-body' || name === 'res-body' || name === 'null-body' || name === 'opt-body'
}

/// An Encapsulated value that carries nothing: OPTIONS without the header, header-only replies.
export const nullBody: Encapsulated = { headers: [], body: 'null-body', bodyOffset: 0 }

/// Parses and validates one Encapsulated value for `method`; a string is the reason it is invalid.
/// `maxSection` bounds each header part, so a huge offset is refused before any byte is read.
/// One pass over the items, each checked against the one before it (no split, regex or entry list:
/// every REQMOD/RESPMOD parses one, and those were a visible part of a 4 KiB request's parse).
export function parseEncapsulated (value: string, method: string, maxSection: number): Encapsulated | string {
  const names = Object.hasOwn(allowed, method) ? allowed[method] : undefined
  if (names === undefined) return `no Encapsulated form for ${method}`
  const headers: Section[] = []
  let previous: Entity | undefined
  let previousOffset = 0
  let pos = 0
  while (pos <= value.length) {
    const comma = value.indexOf(',', pos)
    const item = value.slice(pos, comma < 0 ? value.length : comma)
    pos = comma < 0 ? value.length + 1 : comma + 1
    const eq = item.indexOf('=')
    if (eq < 0) {
      if (previous === undefined && comma < 0 && item.trim() === '') return 'empty Encapsulated header'
      return `Encapsulated item '${item.trim().slice(0, 40)}' has no offset`
    }
    const name = item.slice(0, eq).trim().toLowerCase() as Entity
    const digits = item.slice(eq + 1).trim()
    if (!names.includes(name)) return `Encapsulated entity '${name.slice(0, 20)}' not allowed in ${method}`
    const offset = decimalValue(digits, 15)
    if (offset < 0) return `Encapsulated offset '${digits.slice(0, 20)}' is not a decimal number`
    if (previous === undefined) {
      if (offset !== 0) return 'Encapsulated offsets must start at 0'
    } else {
      if (isBody(previous)) return `${previous} must be the last Encapsulated entity`
      if (rank(name) <= rank(previous)) return `Encapsulated entity ${name} out of order or repeated`
      if (offset <= previousOffset) return 'Encapsulated offsets must ascend'
      const length = offset - previousOffset
      if (length > maxSection) return `encapsulated ${previous} of ${length} bytes is over the limit of ${maxSection}`
      headers.push({ name: previous, offset: previousOffset, length })
    }
    previous = name
    previousOffset = offset
  }
  if (previous === undefined) return 'empty Encapsulated header'
  if (!isBody(previous)) return 'Encapsulated has no body entity (req-body, res-body, null-body)'
  return { headers, body: previous, bodyOffset: previousOffset }
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
