/// Witness protocol (issue #17 item 2): a node asks `scanwall witness` for its vote for the node's
/// current partition; the witness answers with its decision (src/cluster/witness-ledger.ts). Both
/// travel in the authenticated envelope (envelope.ts) with the cluster key and magic "SQ".
/// Replay safety: the witness accepts from each (cluster, node) only a later boot or, within a
/// boot, a larger seq, and only within maxSkewMs of its clock; a node accepts an answer only for a
/// request it still has outstanding (same boot and seq), once.
import { open, seal, type OpenFailure } from './envelope.js'
import type { PeerBeat } from '../../src/cluster/types.js'

const magic = 'SQ'

/// Who sent it and when: the same identity and replay fields as a heartbeat.
type Stamp = Pick<PeerBeat, 'cluster' | 'node' | 'boot' | 'seq' | 'ts'>

export interface WitnessAsk extends Stamp {
  readonly v: 1
  readonly type: 'witness-ask'
  readonly bootTs: number
  /// The asker's partition, sorted; it includes the asker.
  readonly partition: readonly string[]
  /// The configured voters as the asker knows them (the witness logs a disagreement).
  readonly voters: number
}

export interface WitnessReply extends Stamp {
  readonly v: 1
  readonly type: 'witness-reply'
  readonly granted: boolean
  readonly holder: readonly string[]
  readonly leaseMs: number
  readonly reason: string
}

export type WitnessMessage = WitnessAsk | WitnessReply

const maxMembers = 64

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStr (value: unknown, max = 256): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max
}

function isNum (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function isIds (value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= maxMembers && value.every(v => isStr(v))
}

export function validateWitness (value: unknown): { ok: true, message: WitnessMessage } | { ok: false, reason: string } {
  if (!isRecord(value)) return { ok: false, reason: 'not a map' }
  if (value['v'] !== 1) return { ok: false, reason: `unknown version ${String(value['v'])}` }
  const common = isStr(value['cluster']) && isStr(value['node']) && isStr(value['boot']) && isNum(value['seq']) && isNum(value['ts'])
  if (!common) return { ok: false, reason: 'malformed witness message' }
  if (value['type'] === 'witness-ask') {
    const partition = value['partition']
    if (!isNum(value['bootTs']) || !isIds(partition) || !partition.includes(value['node'] as string) || !isNum(value['voters'])) return { ok: false, reason: 'malformed witness ask' }
    return { ok: true, message: value as unknown as WitnessAsk }
  }
  if (value['type'] === 'witness-reply') {
    if (typeof value['granted'] !== 'boolean' || !isIds(value['holder']) || !isNum(value['leaseMs']) || !isStr(value['reason'], 32)) return { ok: false, reason: 'malformed witness reply' }
    return { ok: true, message: value as unknown as WitnessReply }
  }
  return { ok: false, reason: `unknown type ${String(value['type'])}` }
}

export function encodeWitness (message: WitnessMessage, key: Buffer): Buffer {
  return seal(magic, message, key)
}

export type WitnessDecode = { ok: true, message: WitnessMessage } | { ok: false, reason: OpenFailure | 'schema', detail?: string }

export function decodeWitness (datagram: Buffer, key: Buffer): WitnessDecode {
  const opened = open(magic, datagram, key)
  if (!opened.ok) return opened
  const checked = validateWitness(opened.value)
  return checked.ok ? checked : { ok: false, reason: 'schema', detail: checked.reason }
}
