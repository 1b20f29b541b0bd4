/// .ndb body signatures: `name:target:offset:hex[:min_flevel[:max_flevel]]`, with the full ClamAV hex
/// syntax (hex.ts) and offsets (offset.ts). A signature with an executable offset or an edge anchor
/// is `ext` (matcher/ext.ts checks those per layer).
import { parseHex } from './hex.js'
import { isExecutableOffset, parseOffset } from './offset.js'
import { isKnownTarget } from './target.js'
import { functionalityLevel } from './tdb.js'
import type { BodySignature } from './types.js'

/// Returns a signature, or a reason (prefixed `unsupported:` for valid lines this engine skips).
export function parseBodyLine (line: string): BodySignature | string {
  const fields = line.split(':')
  const [name = '', target = '', offsetText = '', hex = '', minLevel, maxLevel] = fields
  if (fields.length < 4 || name === '' || hex === '') return 'expected name:target:offset:hex'
  if (!/^\d+$/.test(target)) return `target '${target}' is not a number`
  if (!isKnownTarget(Number(target))) return `unsupported:target type ${target}`
  if ((minLevel !== undefined && /^\d+$/.test(minLevel) && Number(minLevel) > functionalityLevel) ||
    (maxLevel !== undefined && /^\d+$/.test(maxLevel) && Number(maxLevel) < functionalityLevel)) return 'unsupported:functionality level range excludes this engine'
  const offset = parseOffset(offsetText)
  if (typeof offset === 'string') return offset
  const pattern = parseHex(hex)
  if (typeof pattern === 'string') return pattern
  const ext = isExecutableOffset(offset) || pattern.left !== undefined || pattern.right !== undefined
  return { name, target: Number(target), offset, pattern, ext, source: line }
}
