/// The cluster as the SNMP agent's cluster table shows it, read from the running cluster agents:
/// one row per node and cluster instance (split per-service clusters list every instance; the
/// instance column tells them apart), the quorum and heartbeat-path tables; and the health table, read from the runtime's health tests.
import type { ClusterRuntime } from './runtime.js'
import type { NodeState as AgentState } from './types.js'
import type { ClusterNodeRow, ClusterView, HealthRow, HealthView, PathRow, QuorumRow } from './view.js'
import type { QuorumStatus } from './quorum-gate.js'
import type { NodeState } from '../metrics.js'

const stateForMib: Readonly<Record<AgentState, NodeState>> = {
  joining: 'starting', online: 'active', draining: 'draining', offline: 'offline', failed: 'failed',
}

export class RuntimeClusterView implements ClusterView {
  readonly #runtime: ClusterRuntime
  readonly #selfAddress: string
  constructor (runtime: ClusterRuntime, selfAddress: string) {
    this.#runtime = runtime
    this.#selfAddress = selfAddress
  }

  nodes (): readonly ClusterNodeRow[] {
    const now = Date.now()
    return Object.entries(this.#runtime.status()).flatMap(([instance, { nodes }]) => nodes.map(n => ({
      instance,
      nodeId: n.id,
      address: n.self ? this.#selfAddress : n.address ?? '-',
      state: stateForMib[n.state],
      weight: n.weight,
      buckets: n.owned,
      // The busiest of the load figures (each 0..1), as a percentage.
      load: Math.round(100 * Math.max(n.load.cpu, n.load.memory, n.load.queue, n.load.poolBusy)),
      lastHeartbeat: now - n.lastHeartbeatMs,
      signatureVersion: n.signatureVersion,
    })))
  }

  quorum (): readonly QuorumRow[] { return quorumRows(this.#runtime) }
  paths (): readonly PathRow[] { return pathRows(this.#runtime) }
}

function witnessState (q: QuorumStatus): QuorumRow['witness'] {
  const w = q.witness
  if (w === undefined) return 'none'
  if (w.lastAnswerMs === undefined) return 'silent'
  return w.granted ? 'ours' : 'others'
}

/// Only the states the MIB names; an unknown one (a newer agent) reads as waiting (not serving).
function quorumState (state: string): QuorumRow['state'] {
  return state === 'quorate' || state === 'minority' ? state : 'waiting'
}

/// The instances that run with quorum, each with its status.
function withQuorum (runtime: ClusterRuntime): Array<[string, QuorumStatus]> {
  return Object.entries(runtime.status()).flatMap(([instance, s]) => s.quorum === undefined ? [] : [[instance, s.quorum] as [string, QuorumStatus]])
}

/// Quorum and heartbeat paths per instance (SNMP swClusterQuorumTable and swClusterPathTable).
export function quorumRows (runtime: ClusterRuntime): QuorumRow[] {
  return withQuorum(runtime).map(([instance, q]) => ({
    instance,
    state: quorumState(q.state),
    action: q.action,
    votes: q.votes,
    expected: q.expected,
    needed: q.needed,
    partition: q.partition,
    reason: q.reason,
    witness: witnessState(q),
    witnessHolder: q.witness?.holder ?? [],
  }))
}

export function pathRows (runtime: ClusterRuntime): PathRow[] {
  const now = Date.now()
  return withQuorum(runtime).flatMap(([instance, q]) => q.peers.flatMap(peer => peer.paths.map(p => ({
    instance, peer: peer.id, path: p.path, up: p.up, lastHeard: p.silentMs === undefined ? 0 : now - p.silentMs,
  }))))
}

/// The health tests the cluster runs (the results that take this node out of the cluster), as the
/// SNMP health table and the health notifications see them.
export class RuntimeHealthView implements HealthView {
  readonly #runtime: ClusterRuntime
  constructor (runtime: ClusterRuntime) { this.#runtime = runtime }

  tests (): readonly HealthRow[] { return this.#runtime.healthRows() }

  subscribe (listener: () => void): () => void { return this.#runtime.onHealthChange(listener) }
}
