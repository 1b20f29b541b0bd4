/// Shapes shared by the cluster agent, its netfilter sink, health checks and the control socket.
/// Kept apart from protocols/cluster so src/cluster never imports a protocol (the composition root
/// hands the transport in through the HeartbeatChannel seam).
import type { MembershipReport } from './quorum.js'

export const nodeStates = ['joining', 'online', 'draining', 'offline', 'failed'] as const
export type NodeState = typeof nodeStates[number]

export interface LoadSample {
  readonly cpu: number
  readonly memory: number
  readonly queue: number
  readonly poolBusy: number
}

/// One heartbeat (also the wire schema: protocols/cluster/messages.ts names this type). What a
/// survivor needs to know about a peer: membership, weight, load, what it owns right now, and the
/// versions it runs. Never ICAP sessions (a half-scanned stream cannot be resumed).
export interface PeerBeat {
  readonly v: 1
  readonly type: 'heartbeat'
  readonly cluster: string
  readonly node: string
  /// Random per process start, with its start time: a restart is a new boot, so seq may restart.
  readonly boot: string
  readonly bootTs: number
  readonly seq: number
  readonly ts: number
  readonly state: NodeState
  readonly capacity: number
  readonly weight: number
  readonly load: LoadSample
  readonly mapVersion: number
  /// Bitmap of the buckets this node's kernel filter accepts now (bit b of byte b>>3).
  readonly owned: Uint8Array
  readonly signatureVersion: string
  readonly configVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  readonly connections: number
  /// Whom the sender hears, its partition, whether it is quorate (issue #17). Absent from nodes
  /// without quorum: such a beat counts as hearing no one.
  readonly membership?: MembershipReport
}

/// The witness's vote as the agent sees it (protocols/cluster/witness-client.ts behind this seam).
export interface WitnessVote {
  /// Ask for the vote for this partition (sorted node ids); fire and forget.
  ask (partition: readonly string[]): void
  /// The partition the witness's vote counts for now, or undefined.
  grant (): readonly string[] | undefined
  status (): WitnessVoteStatus
}

export interface WitnessVoteStatus {
  readonly holder: readonly string[]
  readonly granted: boolean
  readonly lastAnswerMs: number | undefined
  readonly reason: string
}

/// Where the agent's bucket ownership goes: the kernel filter (netfilter.ts), or nothing (standalone).
export interface OwnershipSink {
  apply (owned: readonly number[]): Promise<void>
}

/// What the node reports about itself on every heartbeat.
export interface LocalFacts {
  load (): LoadSample
  connections (): number
  signatureVersion (): string
}
