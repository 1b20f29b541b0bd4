/// What one node tells the console about itself, and the changes it makes on itself: its snapshot
/// (state, cluster members as its agents see them, health, counters, signatures), its traffic
/// samples, its events and quarantine, and offline/online, quarantine release/delete/download and
/// `update now`. Every change is logged with the user and stored as an 'admin' event in the
/// decision database. The console server calls these for this node; a peer's console calls them
/// when this node is asked over the peer channel (peer.ts).
import type { ClusterView, HealthView } from '../cluster/view.js'
import type { ClusterRuntime } from '../cluster/runtime.js'
import type { Metrics, Readout as NodeReadout } from '../metrics.js'
import type { DecisionRecorder } from '../records/writer.js'
import type { RecordStore } from '../records/store.js'
import type { QuarantineEntry, QuarantineStore } from '../quarantine/store.js'
import type { UpdateState } from '../updates/store.js'
import type { Logger } from '../log.js'
import type { ClusterMember, NodeSnapshot, NodeTraffic } from './types.js'
import type { TrafficRing } from './traffic.js'
import type { DecisionEvent } from '../records/event.js'
import { ConsoleError } from './errors.js'

/// The node's parts the console reads and acts on (node.ts hands them in).
export interface ConsoleSources {
  readonly nodeId: string
  readonly version: string
  readonly metrics: Metrics
  /// SNMP's node scalars, read now (node.ts hands in the MIB's reader).
  readonly readout: () => NodeReadout
  readonly cluster: ClusterView
  readonly health: HealthView
  /// undefined: standalone (no offline/online).
  readonly runtime: ClusterRuntime | undefined
  readonly updates: { readonly version: string, readonly store: { read: () => Promise<UpdateState> }, check: (reason: string) => Promise<void> }
  readonly mirror: string
  readonly quarantine: QuarantineStore | undefined
  readonly recorder: DecisionRecorder | undefined
  /// A read view of the decision database (undefined: stats.enabled false).
  readonly records: RecordStore | undefined
  /// Called after a release: a message the spam filter quarantined is learned as ham (node.ts
  /// hands in src/spam/release.ts with the node's model; undefined without the spam filter).
  readonly learnReleased?: ((entry: QuarantineEntry) => Promise<unknown>) | undefined
  readonly log: Logger
}

/// Who asked for a change, for the log line and the stored event.
export interface Actor { readonly user: string, readonly client: string, readonly via: string }

export type Operation =
  | { readonly op: 'offline' | 'online', readonly instance?: string | undefined }
  | { readonly op: 'release' | 'delete', readonly id: string }
  | { readonly op: 'update' }

/// The change as its log line and event name it: what was done, and to what.
function describe (operation: Operation, nodeId: string): { what: string, target: string } {
  switch (operation.op) {
    case 'release': case 'delete': return { what: `quarantine ${operation.op}`, target: operation.id }
    case 'update': return { what: 'signatures update', target: nodeId }
    case 'offline': case 'online': return { what: `node ${operation.op}`, target: operation.instance === undefined ? nodeId : `${nodeId}/${operation.instance}` }
  }
}

const hostOf = (address: string | undefined): string => address?.replace(/^\[?([^\]]*?)\]?:\d+$/, '$1') ?? ''

export class LocalNode {
  readonly #s: ConsoleSources
  readonly #traffic: TrafficRing
  constructor (sources: ConsoleSources, traffic: TrafficRing) {
    this.#s = sources
    this.#traffic = traffic
  }

  get id (): string { return this.#s.nodeId }

  members (): ClusterMember[] {
    const runtime = this.#s.runtime
    if (runtime === undefined) {
      return this.#s.cluster.nodes().map(n => ({
        instance: n.instance,
        id: n.nodeId,
        self: true,
        state: n.state,
        weight: n.weight,
        mapped: n.buckets,
        owned: n.buckets,
        load: n.load,
        connections: this.#s.metrics.connectionsOpen,
        lastHeartbeatMs: 0,
        signatureVersion: n.signatureVersion,
        healthy: true,
        failing: [],
        host: '',
      }))
    }
    return Object.entries(runtime.status()).flatMap(([instance, s]) => s.nodes.map(n => ({
      instance,
      id: n.id,
      self: n.self,
      state: n.state,
      weight: n.weight,
      mapped: n.mapped,
      owned: n.owned,
      load: Math.round(100 * Math.max(n.load.cpu, n.load.memory, n.load.queue, n.load.poolBusy)),
      connections: n.connections,
      lastHeartbeatMs: n.self ? 0 : n.lastHeartbeatMs,
      signatureVersion: n.signatureVersion,
      healthy: n.healthy,
      failing: n.failing,
      host: n.self ? '' : hostOf(n.address),
    })))
  }

  async snapshot (): Promise<NodeSnapshot> {
    const s = this.#s
    const r = s.readout()
    const state = await s.updates.store.read().catch(() => ({ dbs: {} }) as UpdateState)
    const members = this.members()
    return {
      node: s.nodeId,
      at: Date.now(),
      state: r.state,
      version: r.version,
      uptimeMs: r.uptimeMs,
      signatures: { version: s.updates.version, count: r.signatures, loadedAt: r.dbLoadedAt, lastCheck: state.lastCheck ?? 0, lastUpdate: state.lastUpdate ?? 0, lastError: state.lastError ?? '', mirror: s.mirror },
      members,
      instances: [...new Set(members.map(m => m.instance))],
      health: s.health.tests(),
      counters: { requests: r.requests, objects: r.objects, bytes: r.bytes, infections: r.infections, blocks: r.blocks, errors: r.errors, timeouts: r.timeouts, connectionsOpen: s.metrics.connectionsOpen },
      services: Object.fromEntries(s.metrics.services),
      quarantined: s.quarantine === undefined ? 0 : (await s.quarantine.list()).length,
    }
  }

  /// The samples (after `sinceMs` when given: a chart's later polls take only what is new, and skip
  /// the database's per-service totals, which only the page's first rendering shows).
  async traffic (sinceMs?: number): Promise<NodeTraffic> {
    if (sinceMs !== undefined) return { node: this.#s.nodeId, samples: this.#traffic.samples(sinceMs), byService: [] }
    const byService = this.#s.records === undefined ? [] : await this.#s.records.totals('service', Math.floor((Date.now() - 86_400_000) / 3_600_000) * 3600, 100)
    return { node: this.#s.nodeId, samples: this.#traffic.samples(), byService }
  }

  /// The newest events of the last `sinceMs` (at most `limit`), newest first.
  async events (sinceMs: number, limit: number): Promise<DecisionEvent[]> {
    if (this.#s.records === undefined) return []
    // The store reads oldest first from a time: ask for a recent window, keep the newest.
    return (await this.#s.records.events(Date.now() - sinceMs, 50_000)).slice(-limit).reverse()
  }

  async quarantine (): Promise<Array<QuarantineEntry & { node: string }>> {
    if (this.#s.quarantine === undefined) return []
    return (await this.#s.quarantine.list()).reverse().map(e => ({ ...e, node: this.#s.nodeId }))
  }

  /// The original bytes of a quarantined object (the caller defangs them for download).
  async quarantined (id: string): Promise<{ entry: QuarantineEntry, bytes: Buffer }> {
    const { entry, stream } = await this.#store().open(id).catch((err: unknown) => { throw new ConsoleError(404, err instanceof Error ? err.message : String(err)) })
    const chunks: Buffer[] = []
    for await (const chunk of stream) chunks.push(chunk as Buffer)
    return { entry, bytes: Buffer.concat(chunks) }
  }

  #store (): QuarantineStore {
    if (this.#s.quarantine === undefined) throw new ConsoleError(404, `node ${this.#s.nodeId} keeps no quarantine`)
    return this.#s.quarantine
  }

  async apply (operation: Operation, actor: Actor): Promise<unknown> {
    const result = await this.#apply(operation)
    const { what, target } = describe(operation, this.#s.nodeId)
    this.#s.log.info({ user: actor.user, client: actor.client, via: actor.via, what, target }, 'console change')
    this.#s.recorder?.recordAdmin({ user: actor.user, client: actor.client, what, target, detail: `via ${actor.via}` })
    return result
  }

  async #apply (operation: Operation): Promise<unknown> {
    switch (operation.op) {
      case 'offline':
      case 'online': {
        const runtime = this.#s.runtime
        if (runtime === undefined) throw new ConsoleError(409, `node ${this.#s.nodeId} runs standalone: no cluster to leave or join`)
        try {
          return operation.op === 'offline' ? await runtime.offline(operation.instance, false) : runtime.online(operation.instance)
        } catch (err) {
          throw new ConsoleError(404, err instanceof Error ? err.message : String(err))
        }
      }
      case 'release': {
        const entry = await this.#store().release(operation.id).catch((err: unknown) => { throw new ConsoleError(404, err instanceof Error ? err.message : String(err)) })
        // The release stands even when the model cannot learn (the database is down): logged.
        await this.#s.learnReleased?.(entry).catch((err: unknown) => { this.#s.log.warn({ id: entry.id, err: err instanceof Error ? err.message : String(err) }, 'released message not learned as ham') })
        return entry
      }
      case 'delete': await this.#store().delete(operation.id).catch((err: unknown) => { throw new ConsoleError(404, err instanceof Error ? err.message : String(err)) }); return { deleted: operation.id }
      case 'update':
        // The check runs in the background (it may take minutes); the page shows its outcome later.
        void this.#s.updates.check('console: update now')
        return { checking: true }
    }
  }
}
