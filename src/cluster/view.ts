/// What the rest of the node may read about the cluster and about health: two small provider
/// interfaces, injected into readers such as the SNMP agent, so that they do not depend on how the
/// cluster agent or the health tests are built. The standalone implementations below describe a
/// one-node cluster (this node) and the node's own built-in checks; a clustered node uses the
/// runtime's (runtime-view.ts).
import type { Metrics, NodeState } from '../metrics.js'

export interface ClusterNodeRow {
  /// The cluster instance (split per-service clusters); '' for a standalone node.
  readonly instance: string
  readonly nodeId: string
  /// host:port the node is known by (heartbeat or service address).
  readonly address: string
  readonly state: NodeState
  readonly weight: number
  readonly buckets: number
  /// 0..100
  readonly load: number
  /// Epoch ms of the last heartbeat heard from the node (for this node: now).
  readonly lastHeartbeat: number
  /// The signature DB the node runs ("main:62 daily:27002", or the DB files' hash).
  readonly signatureVersion: string
}

/// One cluster instance's quorum (issue #17): what SNMP's swClusterQuorumTable shows.
export interface QuorumRow {
  readonly instance: string
  readonly state: 'quorate' | 'minority' | 'waiting'
  readonly action: 'serve' | 'hold' | 'fence'
  /// Votes heard in this node's partition, voters configured, votes a majority needs.
  readonly votes: number
  readonly expected: number
  readonly needed: number
  readonly partition: readonly string[]
  readonly reason: string
  /// none: no witness configured; ours: its vote counts for our partition now; others: it answers,
  /// but not for us; silent: it never answered.
  readonly witness: 'none' | 'ours' | 'others' | 'silent'
  /// The partition the witness last said holds its vote ([] when none or unknown).
  readonly witnessHolder: readonly string[]
}

/// One heartbeat path of one peer (issue #17): what SNMP's swClusterPathTable shows.
export interface PathRow {
  readonly instance: string
  readonly peer: string
  readonly path: string
  readonly up: boolean
  /// Epoch ms a heartbeat of the peer last arrived on the path; 0 when never.
  readonly lastHeard: number
}

/// The cluster as this node sees it. Called per read: must answer from memory, without I/O.
/// `quorum` and `paths` exist only where instances run with quorum (a standalone node has neither).
export interface ClusterView {
  nodes (): readonly ClusterNodeRow[]
  quorum? (): readonly QuorumRow[]
  paths? (): readonly PathRow[]
}

export type HealthStatus = 'unknown' | 'ok' | 'failed'

export interface HealthRow {
  readonly name: string
  readonly status: HealthStatus
  /// Epoch ms of the last run, 0 when never run.
  readonly lastRun: number
  readonly output: string
}

/// The node's health tests and their last results. Called per read: from memory, without I/O.
export interface HealthView {
  tests (): readonly HealthRow[]
  /// Calls `listener` when a test's result may have changed, so notifications need not wait for a
  /// poll; returns the unsubscribe. Views without it are polled only.
  subscribe? (listener: () => void): () => void
}

/// What the standalone views read from the node: live state only.
export interface LocalNodeState {
  readonly nodeId: string
  readonly address: string
  readonly metrics: Metrics
  /// Scans waiting and the queue's limit: the load and the "queue" health check come from them.
  queueDepth (): number
  readonly maxQueue: number
  signatureCount (): number
  signatureVersion (): string
}

/// A cluster of one: this node, owning every bucket.
export class StandaloneClusterView implements ClusterView {
  readonly #local: LocalNodeState
  readonly #buckets: number
  constructor (local: LocalNodeState, buckets = 256) {
    this.#local = local
    this.#buckets = buckets
  }

  nodes (): readonly ClusterNodeRow[] {
    const l = this.#local
    const load = l.maxQueue > 0 ? Math.min(100, Math.round(100 * l.queueDepth() / l.maxQueue)) : 0
    return [{ instance: '', nodeId: l.nodeId, address: l.address, state: l.metrics.state, weight: 1, buckets: this.#buckets, load, lastHeartbeat: Date.now(), signatureVersion: l.signatureVersion() }]
  }
}

/// A standalone node's own checks, evaluated when read (cheap, from live state): signatures loaded
/// and scan queue below its limit. A clustered node shows its cluster health tests instead
/// (RuntimeHealthView in runtime-view.ts).
export class BuiltinHealthView implements HealthView {
  readonly #local: LocalNodeState
  constructor (local: LocalNodeState) { this.#local = local }

  tests (): readonly HealthRow[] {
    const l = this.#local
    const now = Date.now()
    const count = l.signatureCount()
    const depth = l.queueDepth()
    return [
      { name: 'signatures-loaded', status: count > 0 ? 'ok' : 'failed', lastRun: now, output: `${count} signatures` },
      { name: 'scan-queue', status: depth < l.maxQueue ? 'ok' : 'failed', lastRun: now, output: `${depth} of ${l.maxQueue} queued` },
    ]
  }
}
