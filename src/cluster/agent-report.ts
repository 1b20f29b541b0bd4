/// What the cluster agent says about itself and its peers: the heartbeat it sends (the wire shape of
/// types.ts) and the per-node rows of `cluster status` and SNMP. Pure functions over the agent's
/// fields, kept apart from agent.ts (the state machine) so neither grows past one job.
import { fromBitmap, toBitmap } from './bitmap.js'
import type { BucketMap } from './buckets.js'
import type { NodeStatus, PeerView } from './agent-types.js'
import type { MembershipReport } from './quorum.js'
import type { LoadSample, LocalFacts, NodeState, PeerBeat } from './types.js'

/// The agent's own fields a heartbeat carries.
export interface SelfFacts {
  readonly cluster: string
  readonly node: string
  readonly boot: string
  readonly bootTs: number
  readonly seq: number
  readonly state: NodeState
  readonly capacity: number
  readonly weight: number
  readonly load: LoadSample
  readonly mapVersion: number
  /// What its filter accepts, or may accept while a change is being applied.
  readonly claims: ReadonlySet<number>
  readonly buckets: number
  readonly configVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  readonly membership: MembershipReport | undefined
}

export function heartbeat (s: SelfFacts, facts: LocalFacts): PeerBeat {
  return {
    v: 1,
    type: 'heartbeat',
    cluster: s.cluster,
    node: s.node,
    boot: s.boot,
    bootTs: s.bootTs,
    seq: s.seq,
    ts: Date.now(),
    state: s.state,
    capacity: s.capacity,
    weight: s.weight,
    load: s.load,
    mapVersion: s.mapVersion,
    owned: toBitmap(s.claims, s.buckets),
    signatureVersion: facts.signatureVersion(),
    configVersion: s.configVersion,
    healthy: s.healthy,
    failing: s.failing,
    connections: facts.connections(),
    ...(s.membership === undefined ? {} : { membership: s.membership }),
  }
}

function row (beat: PeerBeat, self: boolean, mapped: number): NodeStatus {
  return {
    id: beat.node,
    self,
    state: beat.state,
    weight: beat.weight,
    capacity: beat.capacity,
    mapped,
    owned: fromBitmap(beat.owned).length,
    load: beat.load,
    connections: beat.connections,
    lastHeartbeatMs: 0,
    mapVersion: beat.mapVersion,
    signatureVersion: beat.signatureVersion,
    configVersion: beat.configVersion,
    healthy: beat.healthy,
    failing: beat.failing,
  }
}

/// One row per node, sorted by id: this node (`self`, what its filter accepts now) and every peer
/// as its last heartbeat describes it (failed when silent past the deadline).
export function statusRows (self: PeerBeat, ownedNow: number, peers: ReadonlyMap<string, PeerView>, map: BucketMap, now: number): NodeStatus[] {
  const count = (id: string): number => map.owners.filter(o => o === id).length
  const rows: NodeStatus[] = [{ ...row(self, true, count(self.node)), owned: ownedNow, lastHeartbeatMs: 0 }]
  for (const [id, peer] of peers) {
    rows.push({ ...row(peer.beat, false, count(id)), state: peer.failed ? 'failed' : peer.beat.state, lastHeartbeatMs: Math.round(now - peer.seenAt), ...(peer.address === undefined ? {} : { address: peer.address }) })
  }
  return rows.sort((a, b) => a.id < b.id ? -1 : 1)
}
