/// .ndb body signatures: `name:target:offset:hex[:min_flevel[:max_flevel]]`, with the full ClamAV hex
/// syntax (hex.ts) and offsets (offset.ts).
import { parseHex } from './hex.js'
import { parseOffset } from './offset.js'
import { isKnownTarget } from './target.js'
import type { BodySignature } from './types.js'

/// Returns a signature, or a reason (prefixed `unsupported:` for valid lines this engine skips).
export function parseBodyLine (line: string): BodySignature | string {
  const fields = line.split(':')
  const [name = '', target = '', offsetText = '', hex = ''] = fields
  if (fields.length < 4 || name === '' || hex === '') return 'expected name:target:offset:hex'
  if (!/^\d+$/.test(target)) return `target '${target}' is not a number`
  if (!isKnownTarget(Number(target))) return `unsupported:target type ${target}`
  const offset = parseOffset(offsetText)
  if (typeof offset === 'string') return offset
  const pattern = parseHex(hex)
  if (typeof pattern === 'string') return pattern
  return { name, target: Number(target), offset, pattern }
}
