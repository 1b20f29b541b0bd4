/// Test mails built at test time (never stored): a clean text mail, and EICAR as a base64
/// attachment, inside a zip attachment, and inside a quoted-printable part (soft line breaks and
/// =XX escapes, so only a decoder sees the sample). CRLF line ends, as an MTA sends them.
import { eicar } from './eicar.js'

const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n')

function base64Lines (bytes: Uint8Array): string {
  return (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
}

export function textMail (from: string, to: string, subject: string, body: string, extraHeaders: readonly string[] = []): string {
  return crlf([`From: <${from}>`, `To: <${to}>`, `Subject: ${subject}`, 'Message-ID: <t@scanwall.test>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', ...extraHeaders, '', body, ''].join('\n'))
}

export function attachmentMail (from: string, to: string, subject: string, name: string, type: string, bytes: Uint8Array): string {
  return crlf([`From: <${from}>`, `To: <${to}>`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b-scanwall"', '',
    '--b-scanwall', 'Content-Type: text/plain', '', 'see attachment', '',
    '--b-scanwall', `Content-Type: ${type}; name="${name}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${name}"`, '',
    base64Lines(bytes), '--b-scanwall--', ''].join('\n'))
}

/// Quoted-printable: every `$` and `!` escaped, a soft line break in the middle.
export function quotedPrintable (bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('latin1').replace(/[=$!]/g, c => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  const half = Math.floor(text.length / 2)
  const cut = text.lastIndexOf('=', half) > half - 3 ? text.lastIndexOf('=', half) : half
  return `${text.slice(0, cut)}=\n${text.slice(cut)}`
}

export function qpMail (from: string, to: string, subject: string): string {
  return crlf([`From: <${from}>`, `To: <${to}>`, `Subject: ${subject}`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b-qp"', '',
    '--b-qp', 'Content-Type: text/plain', '', 'hello', '',
    '--b-qp', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: quoted-printable', '',
    quotedPrintable(eicar), '--b-qp--', ''].join('\n'))
}

export const eicarMail = (from: string, to: string): string => attachmentMail(from, to, 'invoice', 'eicar.com', 'application/octet-stream', eicar)
