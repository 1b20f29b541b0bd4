/// The status headers a scanned message carries: `X-Virus-Scanned: Scanwall <version> [on <node>]`
/// and `X-Virus-Status: clean | infected (<threat>)`. Any copy that came with the message from
/// outside is replaced: the first one changed in place (chgheader index 1) and the others deleted,
/// highest index first so the indexes still to send never shift.
import type { HeaderField, Modification } from '../../protocols/milter/index.js'

export const scannedHeader = 'X-Virus-Scanned'
export const statusHeader = 'X-Virus-Status'

export function scannedValue (version: string, node: string | undefined): string {
  return node === undefined || node === '' ? `Scanwall ${version}` : `Scanwall ${version} on ${node}`
}

/// `clean`, or `infected (<threat>)` for a message that is delivered (or held) despite a finding.
export function statusValue (threat: string | undefined): string {
  return threat === undefined ? 'clean' : `infected (${threat})`
}

/// The modifications that leave exactly one `name: value` header in the message.
export function replaceHeader (headers: readonly HeaderField[], name: string, value: string): Modification[] {
  const lower = name.toLowerCase()
  const count = headers.filter(h => h.name.toLowerCase() === lower).length
  const mods: Modification[] = []
  for (let index = count; index >= 2; index--) mods.push({ kind: 'changeHeader', index, name, value: '' })
  mods.push(count >= 1 ? { kind: 'changeHeader', index: 1, name, value } : { kind: 'addHeader', name, value })
  return mods
}
