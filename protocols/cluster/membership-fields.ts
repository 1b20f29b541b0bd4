/// The membership fields a heartbeat carries for quorum (src/cluster/quorum.ts): whom the sender
/// hears and on which paths, its partition, and whether it is quorate. On the wire they are one
/// optional map, `membership`, so nodes without it still interoperate (their beats count as hearing
/// no one, so they never join a quorate partition: a mixed-version cluster must be upgraded whole
/// before quorum is switched on). validate() in messages.ts calls readMembership() (phase 2).
import type { MembershipReport } from '../../src/cluster/quorum.js'

/// Bounds, so a hostile but authenticated peer cannot make us keep large maps.
const maxPeers = 64
const maxPaths = 8
const maxId = 256

function isIds (value: unknown, max: number): value is string[] {
  return Array.isArray(value) && value.length <= max && value.every(v => typeof v === 'string' && v.length > 0 && v.length <= maxId)
}

/// undefined: the beat has no membership fields; 'invalid': it has malformed ones (drop the beat).
export function readMembership (beat: Readonly<Record<string, unknown>>): MembershipReport | undefined | 'invalid' {
  const m = beat['membership']
  if (m === undefined) return undefined
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'invalid'
  const r = m as Record<string, unknown>
  const heard = r['heard']
  if (typeof heard !== 'object' || heard === null || Array.isArray(heard)) return 'invalid'
  const entries = Object.entries(heard)
  if (entries.length > maxPeers || !entries.every(([id, paths]) => id.length > 0 && id.length <= maxId && isIds(paths, maxPaths))) return 'invalid'
  const partition = r['partition']
  if (!isIds(partition, maxPeers) || typeof r['quorate'] !== 'boolean') return 'invalid'
  // A plain object without a prototype: peer ids such as "__proto__" must stay data.
  const clean: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>
  for (const [id, paths] of entries) clean[id] = paths as string[]
  return { heard: clean, partition: [...partition].sort(), quorate: r['quorate'] }
}
