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

export const serverName = 'Scanwall/0.1'

/// Client identity headers we read into each transaction; advertised so Squid sends them.
export const includedHeaders = ['X-Client-IP', 'X-Client-Username', 'X-Authenticated-User'] as const

/// ISTag for a signature-set version: quoted, 32 bytes at most with the quotes (RFC 3507 §4.7), and
/// different whenever the set differs, so caches drop objects judged by an older set.
export function istagFor (dbVersion: string): string {
  const digest = createHash('sha256').update('scanwall\0').update(dbVersion).digest('base64url')
  return `"SW-${digest.slice(0, 24)}"`
}

/// The header lines of an OPTIONS 200 (without the status line and the common headers).
export function optionsFields (service: IcapService, settings: OptionsSettings): string {
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
