/// ICAP status code → reason phrase (RFC 3507 §4.3.3, the HTTP codes ICAP reuses, and 206 from
/// the ICAP partial-content extension Squid implements). A table, as c-icap's header.c keeps it.

const reasons: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'],
  [200, 'OK'],
  [204, 'No Content'],
  [206, 'Partial Content'],
  [400, 'Bad Request'],
  [403, 'Forbidden'],
  [404, 'ICAP Service Not Found'],
  [405, 'Method Not Allowed For Service'],
  [408, 'Request Timeout'],
  [413, 'Request Entity Too Large'],
  [500, 'Server Error'],
  [501, 'Method Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Overloaded'],
  [505, 'ICAP Version Not Supported'],
])

/// The reason phrase for a status; unknown codes get a generic phrase rather than an empty one.
export function reasonPhrase (status: number): string {
  return reasons.get(status) ?? (status >= 500 ? 'Server Error' : status >= 400 ? 'Client Error' : 'OK')
}

/// The status line, CRLF included: what every response starts with.
export function statusLine (status: number): string {
  return `ICAP/1.0 ${status} ${reasonPhrase(status)}\r\n`
}
