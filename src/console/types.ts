/// The data the console's pages, its JSON API and its peers exchange: plain JSON shapes, the same
/// whether a node describes itself or a peer answered for itself. Pages render them as text
/// (escaped), never as markup; a peer's answer is checked against these shapes before use.
import type { HealthRow } from '../cluster/view.js'
import type { Readout, ServiceCounters } from '../metrics.js'
import type { DecisionEvent } from '../records/event.js'
import type { QuarantineEntry } from '../quarantine/store.js'
import type { TotalRow } from '../records/sql.js'

/// One node as one cluster instance's agent sees it (`scanwall cluster status`'s row, flattened).
export interface ClusterMember {
  readonly instance: string
  readonly id: string
  readonly self: boolean
  readonly state: string
  readonly weight: number
  readonly mapped: number
  readonly owned: number
  /// 0..100, the busiest of CPU, memory, queue and busy workers.
  readonly load: number
  readonly connections: number
  /// ms since the last heartbeat (0 for this node).
  readonly lastHeartbeatMs: number
  readonly signatureVersion: string
  readonly healthy: boolean
  readonly failing: readonly string[]
  /// The host the node is reached at (its heartbeat address); '' for this node or when unknown.
  readonly host: string
}

/// SNMP's counters of the node (its readout) and the connections open now.
export type Counters = Pick<Readout, 'requests' | 'objects' | 'bytes' | 'infections' | 'blocks' | 'errors' | 'timeouts'> & { readonly connectionsOpen: number }

export interface NodeSnapshot {
  readonly node: string
  readonly at: number
  readonly state: string
  readonly version: string
  readonly uptimeMs: number
  readonly signatures: { readonly version: string, readonly count: number, readonly loadedAt: number, readonly lastCheck: number, readonly lastUpdate: number, readonly lastError: string, readonly mirror: string }
  /// This node's view of every cluster instance it runs (one standalone row when it runs none).
  readonly members: readonly ClusterMember[]
  readonly instances: readonly string[]
  readonly health: readonly HealthRow[]
  readonly counters: Counters
  readonly services: Readonly<Record<string, ServiceCounters>>
  readonly quarantined: number
}

/// One sample of the live counters (the traffic chart's points); `at` in epoch ms.
export interface TrafficSample { readonly at: number, readonly objects: number, readonly bytes: number, readonly infections: number, readonly blocks: number, readonly services: Readonly<Record<string, { readonly objects: number, readonly bytes: number, readonly infections: number, readonly blocks: number }>> }

export interface NodeTraffic { readonly node: string, readonly samples: readonly TrafficSample[], readonly byService: readonly TotalRow[] }

export type NodeEvents = readonly DecisionEvent[]
export type NodeQuarantine = ReadonlyArray<QuarantineEntry & { readonly node: string }>

/// A node's answer, or why there is none (a peer that did not answer is shown as such, not hidden).
export type FromNode<T> = { readonly node: string, readonly ok: true, readonly data: T } | { readonly node: string, readonly ok: false, readonly error: string }
