/// .ndb body signatures: `name:target:offset:hex`. This first engine takes literal hex patterns
/// (no wildcards) at offset `*` or an absolute offset; the full ClamAV hex syntax is issue #3.
import type { BodySignature } from './types.js'

export function parseBodyLine (line: string): BodySignature | string {
  const fields = line.split(':')
  const [name, target, offset, hex] = fields
  if (fields.length < 4 || name === undefined || target === undefined || offset === undefined || hex === undefined) return 'expected name:target:offset:hex'
  if (!/^\d+$/.test(target)) return `target '${target}' is not a number`
  if (offset !== '*' && !/^\d+$/.test(offset)) return `offset '${offset}' is not supported (use * or a number)`
  if (hex.length < 4 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return `pattern '${hex.slice(0, 40)}' is not literal hex of at least 2 bytes`
  return { name, target: Number(target), offset: offset === '*' ? '*' : Number(offset), hex: hex.toLowerCase() }
}
