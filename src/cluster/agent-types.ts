/// The cluster agent's public shapes (agent.ts): its options, what it knows of each peer, the status
/// rows `cluster status` and SNMP read, and the events it emits. Kept apart so readers of the status
/// (control replies, the CLI) need not import the state machine.
import type { QuorumStatus } from './quorum-gate.js'
import type { Overlap } from './duplicates.js'
import type { ForeignAnswers } from './reset-guard.js'
import type { NodeState, PeerBeat, LoadSample } from './types.js'

export interface AgentOptions {
  readonly cluster: string
  readonly nodeId: string
  readonly buckets: number
  readonly capacity: number
  readonly intervalMs: number
  readonly missed: number
  readonly joinMs: number
  readonly loadWeighting: boolean
  /// Time constant of the load smoothing, and least time between two weight changes (weight.ts).
  readonly loadSmoothingMs: number
  readonly weightHoldMs: number
  readonly configVersion: string
  /// Issue #17; undefined: no quorum (every node takes what its map gives it, as before).
  readonly quorum?: { readonly voters: readonly string[], readonly suspectMs: number, readonly graceMs: number, readonly waitForAll: boolean, readonly paths?: readonly string[] } | undefined
}

export interface PeerView {
  readonly beat: PeerBeat
  /// Local monotonic time (ms) the last heartbeat arrived.
  readonly seenAt: number
  readonly failed: boolean
  /// Where its heartbeats come from (host:port), when the channel says.
  readonly address: string | undefined
}

export interface NodeStatus {
  readonly id: string
  readonly self: boolean
  readonly state: NodeState
  readonly weight: number
  readonly capacity: number
  /// Buckets the map gives it / buckets its filter accepts now.
  readonly mapped: number
  readonly owned: number
  readonly load: LoadSample
  readonly connections: number
  readonly lastHeartbeatMs: number
  readonly mapVersion: number
  readonly signatureVersion: string
  readonly configVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  /// A peer's heartbeat address (host:port); undefined for this node and when unknown.
  readonly address?: string
}

/// One heartbeat path of one peer went up or down (quorum only: paths are tracked by Membership).
export interface PathChange {
  readonly peer: string
  readonly path: string
  readonly up: boolean
  /// ms since a heartbeat of the peer last arrived on the path; undefined when never.
  readonly silentMs: number | undefined
}

export interface AgentEvents {
  state: [NodeState, NodeState]
  'peer-failed': [string]
  'peer-up': [string]
  owned: [readonly number[]]
  /// The partition or the quorum action changed.
  quorum: [QuorumStatus]
  /// This node or a peer claimed a bucket the other claims too; `stepsBack` says which side gave it up.
  duplicate: [Overlap]
  /// The kernel saw this node reset connections it never accepted (reset-guard.ts).
  'foreign-answers': [ForeignAnswers]
  path: [PathChange]
}
