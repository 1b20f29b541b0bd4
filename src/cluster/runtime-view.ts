/// The cluster as the SNMP agent's cluster table shows it, read from the running cluster agents:
/// one row per node of the first cluster instance (the node table is indexed by node id, so split
/// per-service clusters would repeat ids; the first instance is the node's primary cluster).
import type { ClusterRuntime } from './runtime.js'
import type { NodeState as AgentState } from './types.js'
import type { ClusterNodeRow, ClusterView } from './view.js'
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
    const first = Object.values(this.#runtime.status())[0]
    if (first === undefined) return []
    const now = Date.now()
    return first.nodes.map(n => ({
      nodeId: n.id,
      address: n.self ? this.#selfAddress : '-',
      state: stateForMib[n.state],
      weight: n.weight,
      buckets: n.owned,
      // The busiest of the load figures (each 0..1), as a percentage.
      load: Math.round(100 * Math.max(n.load.cpu, n.load.memory, n.load.queue, n.load.poolBusy)),
      lastHeartbeat: now - n.lastHeartbeatMs,
    }))
  }
}
