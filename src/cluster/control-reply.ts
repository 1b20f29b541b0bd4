/// What the control socket answers, as types, and the client's parsers for them: a reply is
/// `unknown` JSON until it is narrowed here, field by field (states to their literal union, counts
/// to integers), so the CLI and the tests never cast an unchecked reply.
import { nodeStates, type NodeState, type LoadSample, type WitnessVoteStatus } from './types.js'
import type { NodeStatus } from './agent-types.js'
import type { QuorumStatus } from './quorum-gate.js'
import type { PathStatus, PeerMembership } from './membership.js'
import { ScanwallError } from '../errors.js'

export interface InstanceStatus {
  readonly nodes: readonly NodeStatus[]
  readonly owned: readonly number[]
  readonly mapVersion: number
  readonly rejects: Readonly<Record<string, number>>
  /// Issue #17: absent when the instance runs without quorum.
  readonly quorum?: QuorumStatus
}

/// `cluster status`: instance name → what this node's agent sees.
export type StatusResult = Readonly<Record<string, InstanceStatus>>

/// `node offline`: either drained (or not, within drainTimeoutMs), or, with wait false, started.
export type OfflineResult =
  | { readonly drained: boolean, readonly connections: number, readonly ms: number }
  | { readonly draining: readonly string[] }

/// `node online`: the instances brought back.
export interface OnlineResult { readonly online: readonly string[] }
/// `scanwall reload`: whether the new policy was applied, or why it was refused (the old one serves).
export interface ReloadResult { readonly applied: boolean, readonly reason?: string }

type Fields = Record<string, unknown>

function bad (what: string): never {
  throw new ScanwallError('CLUSTER_CONTROL', `malformed reply: ${what}`)
}

function record (v: unknown, what: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not an object`)
  return v as Fields
}

function int (r: Fields, k: string, what: string): number {
  const v = r[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(`${what}.${k} is not an integer`)
  return v
}

function num (r: Fields, k: string, what: string): number {
  const v = r[k]
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${what}.${k} is not a number`)
  return v
}

function str (r: Fields, k: string, what: string): string {
  const v = r[k]
  if (typeof v !== 'string') bad(`${what}.${k} is not a string`)
  return v
}

function bool (r: Fields, k: string, what: string): boolean {
  const v = r[k]
  if (typeof v !== 'boolean') bad(`${what}.${k} is not a boolean`)
  return v
}

function list<T> (v: unknown, what: string, item: (x: unknown, what: string) => T): T[] {
  if (!Array.isArray(v)) bad(`${what} is not a list`)
  return v.map((x, i) => item(x, `${what}[${i}]`))
}

const text = (x: unknown, what: string): string => typeof x === 'string' ? x : bad(`${what} is not a string`)
const integer = (x: unknown, what: string): number => typeof x === 'number' && Number.isSafeInteger(x) ? x : bad(`${what} is not an integer`)

function state (r: Fields, what: string): NodeState {
  const v = r['state']
  if (typeof v !== 'string' || !(nodeStates as readonly string[]).includes(v)) bad(`${what}.state is not one of ${nodeStates.join(', ')}`)
  return v as NodeState
}

function load (v: unknown, what: string): LoadSample {
  const r = record(v, what)
  return { cpu: num(r, 'cpu', what), memory: num(r, 'memory', what), queue: num(r, 'queue', what), poolBusy: num(r, 'poolBusy', what) }
}

function nodeStatus (v: unknown, what: string): NodeStatus {
  const r = record(v, what)
  const address = r['address']
  return {
    id: str(r, 'id', what),
    self: bool(r, 'self', what),
    state: state(r, what),
    weight: num(r, 'weight', what),
    capacity: num(r, 'capacity', what),
    mapped: int(r, 'mapped', what),
    owned: int(r, 'owned', what),
    load: load(r['load'], `${what}.load`),
    connections: int(r, 'connections', what),
    lastHeartbeatMs: int(r, 'lastHeartbeatMs', what),
    mapVersion: int(r, 'mapVersion', what),
    signatureVersion: str(r, 'signatureVersion', what),
    configVersion: str(r, 'configVersion', what),
    healthy: bool(r, 'healthy', what),
    failing: list(r['failing'], `${what}.failing`, text),
    ...(address === undefined ? {} : { address: text(address, `${what}.address`) }),
  }
}

const actions = ['serve', 'hold', 'fence'] as const

function witnessStatus (v: unknown, what: string): WitnessVoteStatus {
  const r = record(v, what)
  const last = r['lastAnswerMs']
  return { holder: list(r['holder'], `${what}.holder`, text), granted: bool(r, 'granted', what), lastAnswerMs: last === undefined ? undefined : integer(last, `${what}.lastAnswerMs`), reason: str(r, 'reason', what) }
}

function pathStatus (v: unknown, what: string): PathStatus {
  const r = record(v, what)
  const silent = r['silentMs']
  return { path: str(r, 'path', what), silentMs: silent === undefined ? undefined : integer(silent, `${what}.silentMs`), up: bool(r, 'up', what) }
}

function peerMembership (v: unknown, what: string): PeerMembership {
  const r = record(v, what)
  return {
    id: str(r, 'id', what),
    heard: bool(r, 'heard', what),
    hearsUs: bool(r, 'hearsUs', what),
    inPartition: bool(r, 'inPartition', what),
    paths: list(r['paths'], `${what}.paths`, pathStatus),
    outsideMs: int(r, 'outsideMs', what),
  }
}

function quorumStatus (v: unknown, what: string): QuorumStatus {
  const r = record(v, what)
  const action = str(r, 'action', what)
  if (!(actions as readonly string[]).includes(action)) bad(`${what}.action is not one of ${actions.join(', ')}`)
  return {
    state: str(r, 'state', what),
    action: action as QuorumStatus['action'],
    partition: list(r['partition'], `${what}.partition`, text),
    votes: int(r, 'votes', what),
    expected: int(r, 'expected', what),
    needed: int(r, 'needed', what),
    settled: bool(r, 'settled', what),
    reason: str(r, 'reason', what),
    lines: list(r['lines'], `${what}.lines`, text),
    peers: list(r['peers'], `${what}.peers`, peerMembership),
    ...(r['witness'] === undefined ? {} : { witness: witnessStatus(r['witness'], `${what}.witness`) }),
  }
}

export function parseStatus (v: unknown): StatusResult {
  const out: Record<string, InstanceStatus> = {}
  for (const [name, value] of Object.entries(record(v, 'status'))) {
    const what = `status.${name}`
    const r = record(value, what)
    out[name] = {
      nodes: list(r['nodes'], `${what}.nodes`, nodeStatus),
      owned: list(r['owned'], `${what}.owned`, integer),
      mapVersion: int(r, 'mapVersion', what),
      rejects: Object.fromEntries(Object.entries(record(r['rejects'], `${what}.rejects`)).map(([k, n]) => [k, integer(n, `${what}.rejects.${k}`)])),
      ...(r['quorum'] === undefined ? {} : { quorum: quorumStatus(r['quorum'], `${what}.quorum`) }),
    }
  }
  return out
}

export function parseOffline (v: unknown): OfflineResult {
  const r = record(v, 'offline')
  if ('draining' in r) return { draining: list(r['draining'], 'offline.draining', text) }
  return { drained: bool(r, 'drained', 'offline'), connections: int(r, 'connections', 'offline'), ms: int(r, 'ms', 'offline') }
}

export function parseOnline (v: unknown): OnlineResult {
  return { online: list(record(v, 'online')['online'], 'online.online', text) }
}

export function parseReload (v: unknown): ReloadResult {
  if (typeof v !== 'object' || v === null || typeof (v as { applied?: unknown }).applied !== 'boolean') throw new ScanwallError('CLUSTER_CONTROL', 'malformed reload reply')
  const { applied, reason } = v as { applied: boolean, reason?: unknown }
  return typeof reason === 'string' ? { applied, reason } : { applied }
}
