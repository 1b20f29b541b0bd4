/// What the parser knows about one ICAP request once its headers are in: the request line, the
/// ICAP headers, and the encapsulated HTTP header parts (raw, for byte-identical echo, and parsed).
import { decimalValue, type Headers, type ParsedBlock } from './headers.js'
import type { Encapsulated } from './encapsulated.js'

export type IcapMethod = 'OPTIONS' | 'REQMOD' | 'RESPMOD'

export interface HttpPart {
  /// The part exactly as it arrived, blank line included.
  readonly raw: Buffer
  readonly parsed: ParsedBlock
}

export interface IcapRequest {
  readonly method: IcapMethod
  readonly uri: string
  /// Service path from the URI (`icap://host:1344/avscan?x` or `icaps://…` → `avscan`).
  readonly service: string
  readonly headers: Headers
  readonly encapsulated: Encapsulated
  readonly reqHdr: HttpPart | undefined
  readonly resHdr: HttpPart | undefined
  /// Preview size when the client sends one (RFC 3507 §4.5); undefined without a Preview header.
  readonly preview: number | undefined
  readonly allow204: boolean
  readonly allow206: boolean
  /// The client asked to close after this transaction (`Connection: close`).
  readonly close: boolean
}

/// Service name from a request URI: the path after the authority, without query or slashes.
export function serviceFromUri (uri: string): string | undefined {
  let path: string
  if (uri.startsWith('/')) {
    path = uri
  } else {
    const scheme = uri.indexOf('://')
    // icaps:// is what Squid sends over TLS (the same service paths).
    const name = uri.slice(0, scheme).toLowerCase()
    if (scheme < 0 || (name !== 'icap' && name !== 'icaps')) return undefined
    const slash = uri.indexOf('/', scheme + 3)
    path = slash < 0 ? '/' : uri.slice(slash)
  }
  // Without the query and the slashes around the path (no regex: every request asks).
  const query = path.indexOf('?')
  let end = query < 0 ? path.length : query
  let start = 0
  while (start < end && path.charCodeAt(start) === 0x2f) start++
  while (end > start && path.charCodeAt(end - 1) === 0x2f) end--
  return path.slice(start, end)
}

/// The URL of the HTTP request an ICAP request carries (absolute as Squid sends it, or Host + path).
export function httpUrl (request: IcapRequest): string {
  const part = request.reqHdr
  if (part === undefined) return '-'
  // The second word of the request line (no split: every transaction asks).
  const line = part.parsed.startLine
  const first = line.indexOf(' ')
  const second = first < 0 ? -1 : line.indexOf(' ', first + 1)
  const target = first < 0 ? '-' : line.slice(first + 1, second < 0 ? line.length : second)
  if (!target.startsWith('/')) return target
  const host = part.parsed.headers.get('host')
  return host === undefined ? target : `http://${host}${target}`
}

/// The declared length of the encapsulated body, when the HTTP headers give one.
export function declaredLength (request: IcapRequest): number | undefined {
  const part = request.method === 'REQMOD' ? request.reqHdr : request.resHdr
  const value = part?.parsed.headers.get('content-length')
  const length = value === undefined ? -1 : decimalValue(value, 15)
  return length < 0 ? undefined : length
}
