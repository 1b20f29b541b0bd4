/// The OPTIONS answer (RFC 3507 §4.10) and the ISTag every response carries. OPTIONS is always a
/// clean 200 for a known service: Squid marks a service down for minutes after a failed OPTIONS,
/// so overload or drain never shows here (Max-Connections tells clients how many to open).
import { createHash } from 'node:crypto'
import type { IcapService } from './services.js'

export interface OptionsSettings {
  readonly maxConnections: number
  readonly optionsTtlSeconds: number
  readonly previewBytes: number
  readonly allow206: boolean
  readonly transferPreview: string
  readonly transferIgnore: string
  readonly transferComplete: string
}

/// `Server:` when the application names none.
export const defaultServerName = 'icap-server-lite'

/// Client identity headers we read into each transaction; advertised so Squid sends them.
export const includedHeaders = ['X-Client-IP', 'X-Client-Username', 'X-Authenticated-User'] as const

/// ISTag for a version of whatever judges the content (a signature set): quoted, 32 bytes at most
/// with the quotes (RFC 3507 §4.7), and different whenever the version differs, so caches drop
/// objects judged by an older one. `prefix` (up to 5 characters) names the application.
export function istagFor (version: string, prefix = 'IS'): string {
  const tag = prefix.replace(/[^A-Za-z0-9]/g, '').slice(0, 5)
  const digest = createHash('sha256').update(tag + '\0').update(version).digest('base64url')
  return `"${tag}-${digest.slice(0, 29 - tag.length)}"`
}

/// The header lines of an OPTIONS 200 (without the status line and the common headers).
export function optionsFields (service: IcapService, settings: OptionsSettings, serverName: string): string {
  const methods = [...service.methods].join(', ')
  let out = `Methods: ${methods}\r\n` +
    `Service: ${serverName} ${service.name}\r\n` +
    `Service-ID: ${service.name}\r\n` +
    `Max-Connections: ${settings.maxConnections}\r\n` +
    `Options-TTL: ${settings.optionsTtlSeconds}\r\n` +
    `Allow: 204${settings.allow206 ? ', 206' : ''}\r\n` +
    `Preview: ${settings.previewBytes}\r\n`
  if (settings.transferPreview !== '') out += `Transfer-Preview: ${settings.transferPreview}\r\n`
  if (settings.transferIgnore !== '') out += `Transfer-Ignore: ${settings.transferIgnore}\r\n`
  if (settings.transferComplete !== '') out += `Transfer-Complete: ${settings.transferComplete}\r\n`
  out += `X-Include: ${includedHeaders.join(', ')}\r\n`
  return out
}
