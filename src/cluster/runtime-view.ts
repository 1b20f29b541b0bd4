/// The cluster as the SNMP agent's cluster table shows it, read from the running cluster agents:
/// one row per node and cluster instance (split per-service clusters list every instance; the
/// instance column tells them apart); and the health table, read from the runtime's health tests.
import type { ClusterRuntime } from './runtime.js'
import type { NodeState as AgentState } from './types.js'
import type { ClusterNodeRow, ClusterView, HealthRow, HealthView } from './view.js'
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
}

/// The health tests the cluster runs (the results that take this node out of the cluster), as the
/// SNMP health table and the health notifications see them.
export class RuntimeHealthView implements HealthView {
  readonly #runtime: ClusterRuntime
  constructor (runtime: ClusterRuntime) { this.#runtime = runtime }

  tests (): readonly HealthRow[] { return this.#runtime.healthRows() }

  subscribe (listener: () => void): () => void { return this.#runtime.onHealthChange(listener) }
}
