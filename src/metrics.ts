/// Live counters and gauges of one node. node.ts owns the one instance; services update it on the
/// hot path (plain field increments), SNMP and the cluster heartbeat read it. Never a query per read.
/// It also carries the node's life-cycle state and a small event emitter for the few things that
/// are news rather than numbers (an infection, a state change, a signature reload): the SNMP trap
/// sender listens to them, and emitting with no listener costs next to nothing on the hot path.
import { EventEmitter } from 'node:events'

export interface ServiceCounters {
  requests: number
  reqmod: number
  respmod: number
  options: number
  clean: number
  infected: number
  blocked: number
  errors: number
  bytesIn: number
}

function emptyService (): ServiceCounters {
  return { requests: 0, reqmod: 0, respmod: 0, options: 0, clean: 0, infected: 0, blocked: 0, errors: 0, bytesIn: 0 }
}

/// Latency reservoir: fixed-size ring of recent scan times, enough for an average and a p99.
class LatencyWindow {
  readonly #samples: Float64Array
  #next = 0
  #filled = 0
  constructor (size: number) { this.#samples = new Float64Array(size) }
  record (ms: number): void {
    this.#samples[this.#next] = ms
    this.#next = (this.#next + 1) % this.#samples.length
    this.#filled = Math.min(this.#filled + 1, this.#samples.length)
  }

  snapshot (): { avgMs: number, p99Ms: number } {
    if (this.#filled === 0) return { avgMs: 0, p99Ms: 0 }
    const live = this.#samples.slice(0, this.#filled).sort()
    const sum = live.reduce((a, b) => a + b, 0)
    return { avgMs: sum / this.#filled, p99Ms: live[Math.min(live.length - 1, Math.floor(live.length * 0.99))] ?? 0 }
  }
}

/// Life-cycle of a node (SCANWALL-MIB ScanwallNodeState; 'failed' and 'offline' are said of peers).
export type NodeState = 'starting' | 'active' | 'draining' | 'stopping' | 'failed' | 'offline'

export interface MetricsEvents {
  /// A scan found a threat (ScanService); `service` when the caller knows it.
  infection: [{ threat: string, service?: string }]
  state: [{ from: NodeState, to: NodeState }]
  /// An ICAP connection opened or closed (the open count now): a drain waits on it, not in a poll.
  connections: [number]
  /// A signature reload finished: ok with the new set's version and size, or failed and why.
  sigdb: [{ ok: true, version: string, signatures: number } | { ok: false, error: string }]
  cluster: [ClusterEvent]
}

/// Issue #17: a cluster instance's quorum changed (it serves, holds or fences), it found a bucket
/// owned twice (in peers' heartbeats, or by the kernel's count of foreign resets), or a peer's
/// heartbeat path went up or down; `detail` is the line its log says why.
export type ClusterEvent =
  | { readonly instance: string, readonly kind: 'quorum' | 'duplicate', readonly detail: string }
  | { readonly instance: string, readonly kind: 'path', readonly detail: string, readonly peer: string, readonly path: string, readonly up: boolean }

export class Metrics {
  readonly startedAt = Date.now()
  readonly events = new EventEmitter<MetricsEvents>()
  #state: NodeState = 'starting'
  objectsScanned = 0
  bytesScanned = 0
  infections = 0
  blocks = 0
  errors = 0
  timeouts = 0
  aborted = 0
  overloads = 0
  squidStalls = 0
  /// Connections closed at accept because the client is not in the listener's allow list.
  connectionsDenied = 0
  /// Clean-verdict cache (src/scan/verdict-cache.ts): objects answered from it, and looked up in it
  /// (second sightings) without a stored verdict.
  cacheHits = 0
  cacheMisses = 0
  #connectionsOpen = 0
  connectionsTotal = 0
  readonly latency = new LatencyWindow(4096)
  readonly services = new Map<string, ServiceCounters>()

  get connectionsOpen (): number { return this.#connectionsOpen }
  set connectionsOpen (n: number) {
    this.#connectionsOpen = n
    this.events.emit('connections', n)
  }

  get state (): NodeState { return this.#state }
  setState (to: NodeState): void {
    const from = this.#state
    if (from === to) return
    this.#state = to
    this.events.emit('state', { from, to })
  }

  service (name: string): ServiceCounters {
    let counters = this.services.get(name)
    if (counters === undefined) {
      counters = emptyService()
      this.services.set(name, counters)
    }
    return counters
  }
}

/// One read of every live number of the node, as SNMP's node scalars serve it (protocols/snmp/mib.ts
/// makes it, once per PDU); the console and its /metrics are handed the same reader.
export interface Readout {
  readonly nodeId: string
  readonly state: NodeState
  readonly uptimeMs: number
  readonly version: string
  readonly dbVersion: string
  readonly dbLoadedAt: number
  readonly signatures: number
  readonly poolSize: number
  readonly poolBusy: number
  readonly queueDepth: number
  readonly requests: number
  readonly objects: number
  readonly bytes: number
  readonly infections: number
  readonly blocks: number
  readonly errors: number
  readonly timeouts: number
  readonly latencyAvgUs: number
  readonly latencyP99Us: number
  readonly connectionsDenied: number
}
