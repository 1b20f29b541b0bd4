/// Answer builders for the common decisions, so a handler need not know the header conventions:
/// an object passed unchanged, and an object blocked with an HTTP 403 page and the threat named the
/// three ways ICAP clients read it (X-Infection-Found from draft-stecher-icap-subid, c-icap's
/// multi-line X-Violations-Found, and X-Virus-ID: Nextcloud, ownCloud and rspamd each read another).
import type { HeaderField, IcapAnswer } from './handler.js'
import { headerSafe } from './respond.js'

/// The ICAP header lines that name a threat.
export function threatHeaders (threat: string): HeaderField[] {
  const name = headerSafe(threat)
  return [
    ['X-Infection-Found', `Type=0; Resolution=2; Threat=${name};`],
    ['X-Violations-Found', `1\r\n\t-\r\n\t${name}\r\n\t0\r\n\t0`],
    ['X-Virus-ID', name],
  ]
}

/// Pass the message unchanged; `body` is the stored body when the transaction needs an echo.
export function allowAnswer<B> (body?: B, verdict?: string): IcapAnswer<B> {
  return { kind: 'allow', body, ...(verdict === undefined ? {} : { verdict }) }
}

/// Replace the message with an HTTP 403 carrying `page` (HTML), the threat named in ICAP and HTTP.
export function blockAnswer<B> (threat: string, page: Uint8Array, verdict = 'blocked'): IcapAnswer<B> {
  return {
    kind: 'replace',
    verdict,
    threat,
    icapHeaders: threatHeaders(threat),
    http: {
      status: 403,
      reason: 'Forbidden',
      headers: [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', ''], ['Cache-Control', 'no-store'], ['X-Virus-ID', headerSafe(threat)]],
      body: page,
    },
  }
}
