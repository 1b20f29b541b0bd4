/// Heartbeat message schema: a versioned union and its runtime validator. Everything decoded from a
/// peer is `unknown` until validate() narrows it; an invalid message is dropped, never half-used.

import { readMembership } from './membership-fields.js'
import { nodeStates, type NodeState, type LoadSample, type PeerBeat } from '../../src/cluster/types.js'
export { nodeStates, type NodeState }

/// The wire heartbeat is the agent's own shape (src/cluster/types.ts: what a survivor needs to know
/// about a peer), named here once so the codec and the agent cannot drift apart.
export type Load = LoadSample
export type Heartbeat = PeerBeat

export type ClusterMessage = Heartbeat

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isNum (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function isStr (value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length <= max
}

function isLoad (value: unknown): value is Load {
  return isRecord(value) && isNum(value['cpu']) && isNum(value['memory']) && isNum(value['queue']) && isNum(value['poolBusy'])
}

/// Narrows a decoded value to a ClusterMessage, or returns a reason it is not one.
export function validate (value: unknown): { ok: true, message: ClusterMessage } | { ok: false, reason: string } {
  if (!isRecord(value)) return { ok: false, reason: 'not a map' }
  if (value['v'] !== 1) return { ok: false, reason: `unknown version ${String(value['v'])}` }
  if (value['type'] !== 'heartbeat') return { ok: false, reason: `unknown type ${String(value['type'])}` }
  const state = value['state']
  const failing = value['failing']
  const owned = value['owned']
  const ok = isStr(value['cluster']) && isStr(value['node']) && value['node'] !== '' && isStr(value['boot']) &&
    isNum(value['bootTs']) && isNum(value['seq']) && isNum(value['ts']) &&
    typeof state === 'string' && (nodeStates as readonly string[]).includes(state) &&
    isNum(value['capacity']) && isNum(value['weight']) && isLoad(value['load']) && isNum(value['mapVersion']) &&
    owned instanceof Uint8Array && owned.length <= 512 &&
    isStr(value['signatureVersion']) && isStr(value['configVersion']) && typeof value['healthy'] === 'boolean' &&
    Array.isArray(failing) && failing.length <= 64 && failing.every(f => isStr(f)) && isNum(value['connections'])
  if (!ok) return { ok: false, reason: 'malformed heartbeat' }
  const membership = readMembership(value)
  if (membership === 'invalid') return { ok: false, reason: 'malformed membership fields' }
  const { membership: _raw, ...rest } = value
  return { ok: true, message: (membership === undefined ? rest : { ...rest, membership }) as unknown as Heartbeat }
}
