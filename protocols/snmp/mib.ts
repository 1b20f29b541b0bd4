/// SCANWALL-MIB in code: the OID table (mib/SCANWALL-MIB.txt is its text twin), the net-snmp provider
/// definitions, and the refresh that copies one live snapshot of the node into the agent's MIB tree
/// just before each read PDU is served. All objects are read-only.
///
/// Why a refresh hook and not per-object handlers: net-snmp walks its tree for GetNext/GetBulk before
/// any provider handler runs, so handlers cannot add or remove table rows (a new service, a node
/// joining). Refreshing the whole (small) tree from one snapshot per PDU also keeps every varbind of a
/// PDU coherent. The snapshot reads live fields only (Metrics, ScanService getters, the injected
/// views): no query, no I/O.
import snmp from 'net-snmp'
import type { Metrics, NodeState, Readout } from '../../src/metrics.js'
import type { ClusterView, ClusterNodeRow, HealthView, HealthRow, HealthStatus } from '../../src/cluster/view.js'
import { counter64, gauge32, dateAndTime, text, maxUint32, type Counter64Encoding, type TableDef } from './mib-values.js'
import { quorumTable, pathTable } from './mib-cluster.js'

export { counter64, counter64Number, gauge32, dateAndTime, type Counter64Encoding } from './mib-values.js'

const T = snmp.ObjectType
const readOnly = snmp.MaxAccess['read-only']
const notAccessible = snmp.MaxAccess['not-accessible']

/// The default enterprise subtree: 99999 is a placeholder, not an IANA PEN (see README).
export const defaultEnterpriseOid = '1.3.6.1.4.1.99999'

export const nodeStateCodes: Readonly<Record<NodeState, number>> = { starting: 1, active: 2, draining: 3, stopping: 4, failed: 5, offline: 6 }
const healthStatusCodes: Readonly<Record<HealthStatus, number>> = { unknown: 1, ok: 2, failed: 3 }

/// Suffixes under the enterprise OID, as in SCANWALL-MIB.
export const branch = {
  notifications: '0',
  node: '1.1',
  clusterEntry: '1.2.1',
  serviceEntry: '1.3.1',
  healthEntry: '1.4.1',
  notifyObjects: '1.5',
} as const

export const notifications = {
  swInfectionDetected: 1,
  swNodeStateChanged: 2,
  swHealthTestFailed: 3,
  swHealthTestRecovered: 4,
  swSigDbReloaded: 5,
  swSigDbLoadFailed: 6,
  swClusterQuorumChanged: 7,
  swClusterDuplicateOwner: 8,
  swClusterPathChanged: 9,
} as const

export const notifyObjects = { swNotifyThreat: 1, swNotifyService: 2, swNotifySuppressed: 3, swNotifyPreviousState: 4, swNotifyDetail: 5, swNotifyPeer: 6, swNotifyPath: 7, swNotifyPathState: 8 } as const

/// What the scan service exposes that the MIB reads (ScanService satisfies it).
export interface ScanReadout {
  readonly dbVersion: string
  readonly signatureCount: number
  readonly signatures: { readonly builtAt: number }
  readonly poolSize: number
  readonly inFlight: number
  readonly queueDepth: number
}

export interface MibSources {
  readonly nodeId: string
  readonly version: string
  readonly metrics: Metrics
  readonly scan: ScanReadout
  readonly cluster: ClusterView
  readonly health: HealthView
}

/// One read of every live number, taken once per PDU (the shape lives in src/metrics.ts: the
/// console and /metrics read the same numbers).
export type { Readout }

export function readout (s: MibSources): Readout {
  const m = s.metrics
  const latency = m.latency.snapshot()
  let requests = 0
  for (const counters of m.services.values()) requests += counters.requests
  const queued = s.scan.queueDepth
  return {
    nodeId: s.nodeId,
    state: m.state,
    uptimeMs: Date.now() - m.startedAt,
    version: s.version,
    dbVersion: s.scan.dbVersion,
    dbLoadedAt: s.scan.signatures.builtAt,
    signatures: s.scan.signatureCount,
    poolSize: s.scan.poolSize,
    poolBusy: Math.max(0, Math.min(s.scan.poolSize, s.scan.inFlight - queued)),
    queueDepth: queued,
    requests,
    objects: m.objectsScanned,
    bytes: m.bytesScanned,
    infections: m.infections,
    blocks: m.blocks,
    errors: m.errors,
    timeouts: m.timeouts,
    latencyAvgUs: Math.round(latency.avgMs * 1000),
    latencyP99Us: Math.round(latency.p99Ms * 1000),
    connectionsDenied: m.connectionsDenied,
  }
}

interface ScalarDef {
  readonly name: string
  readonly sub: number
  readonly type: number
  readonly value: (r: Readout, c64: Counter64Encoding) => unknown
}

const stateEnum = { enumeration: Object.fromEntries(Object.entries(nodeStateCodes).map(([k, v]) => [String(v), k])) }

/// The node scalars: name (as in the MIB), sub-identifier under swNode, SMI type, getter.
export const scalars: readonly ScalarDef[] = [
  { name: 'swNodeId', sub: 1, type: T.OctetString, value: r => text(r.nodeId) },
  { name: 'swNodeState', sub: 2, type: T.Integer, value: r => nodeStateCodes[r.state] },
  { name: 'swNodeUptime', sub: 3, type: T.TimeTicks, value: r => Math.floor(r.uptimeMs / 10) % (maxUint32 + 1) },
  { name: 'swNodeVersion', sub: 4, type: T.OctetString, value: r => text(r.version) },
  { name: 'swSigDbVersion', sub: 5, type: T.OctetString, value: r => text(r.dbVersion) },
  { name: 'swSigDbDate', sub: 6, type: T.OctetString, value: r => dateAndTime(r.dbLoadedAt) },
  { name: 'swSigCount', sub: 7, type: T.Gauge32, value: r => gauge32(r.signatures) },
  { name: 'swPoolSize', sub: 8, type: T.Gauge32, value: r => gauge32(r.poolSize) },
  { name: 'swPoolBusy', sub: 9, type: T.Gauge32, value: r => gauge32(r.poolBusy) },
  { name: 'swQueueDepth', sub: 10, type: T.Gauge32, value: r => gauge32(r.queueDepth) },
  { name: 'swRequests', sub: 11, type: T.Counter64, value: (r, c64) => c64(r.requests) },
  { name: 'swObjectsScanned', sub: 12, type: T.Counter64, value: (r, c64) => c64(r.objects) },
  { name: 'swBytesScanned', sub: 13, type: T.Counter64, value: (r, c64) => c64(r.bytes) },
  { name: 'swInfections', sub: 14, type: T.Counter64, value: (r, c64) => c64(r.infections) },
  { name: 'swBlocks', sub: 15, type: T.Counter64, value: (r, c64) => c64(r.blocks) },
  { name: 'swErrors', sub: 16, type: T.Counter64, value: (r, c64) => c64(r.errors) },
  { name: 'swTimeouts', sub: 17, type: T.Counter64, value: (r, c64) => c64(r.timeouts) },
  { name: 'swLatencyAvg', sub: 18, type: T.Gauge32, value: r => gauge32(r.latencyAvgUs) },
  { name: 'swLatencyP99', sub: 19, type: T.Gauge32, value: r => gauge32(r.latencyP99Us) },
  { name: 'swConnectionsDenied', sub: 20, type: T.Counter64, value: (r, c64) => c64(r.connectionsDenied) },
]

const clusterTable: TableDef<ClusterNodeRow> = {
  name: 'swClusterTable',
  entry: branch.clusterEntry,
  indexName: 'swClusterIndex',
  rows: s => s.cluster.nodes(),
  columns: [
    { number: 2, name: 'swClusterNodeId', type: T.OctetString, value: n => text(n.nodeId) },
    { number: 3, name: 'swClusterAddress', type: T.OctetString, value: n => text(n.address) },
    { number: 4, name: 'swClusterState', type: T.Integer, value: n => nodeStateCodes[n.state] },
    { number: 5, name: 'swClusterWeight', type: T.Gauge32, value: n => gauge32(n.weight) },
    { number: 6, name: 'swClusterBuckets', type: T.Gauge32, value: n => gauge32(n.buckets) },
    { number: 7, name: 'swClusterLoad', type: T.Gauge32, value: n => gauge32(Math.min(100, n.load)) },
    { number: 8, name: 'swClusterLastHeartbeat', type: T.OctetString, value: n => dateAndTime(n.lastHeartbeat) },
    { number: 9, name: 'swClusterInstance', type: T.OctetString, value: n => text(n.instance) },
    { number: 10, name: 'swClusterSigVersion', type: T.OctetString, value: n => text(n.signatureVersion) },
  ],
}

type ServiceRow = readonly [string, ReturnType<Metrics['service']>]

const serviceTable: TableDef<ServiceRow> = {
  name: 'swServiceTable',
  entry: branch.serviceEntry,
  indexName: 'swServiceIndex',
  // Map order is first-use order and services are never removed: a service keeps its row number.
  rows: s => [...s.metrics.services.entries()],
  columns: [
    { number: 2, name: 'swServiceName', type: T.OctetString, value: ([name]) => text(name) },
    { number: 3, name: 'swServiceRequests', type: T.Counter64, value: ([, c], c64) => c64(c.requests) },
    { number: 4, name: 'swServiceReqmod', type: T.Counter64, value: ([, c], c64) => c64(c.reqmod) },
    { number: 5, name: 'swServiceRespmod', type: T.Counter64, value: ([, c], c64) => c64(c.respmod) },
    { number: 6, name: 'swServiceOptions', type: T.Counter64, value: ([, c], c64) => c64(c.options) },
    { number: 7, name: 'swServiceClean', type: T.Counter64, value: ([, c], c64) => c64(c.clean) },
    { number: 8, name: 'swServiceInfected', type: T.Counter64, value: ([, c], c64) => c64(c.infected) },
    { number: 9, name: 'swServiceBlocked', type: T.Counter64, value: ([, c], c64) => c64(c.blocked) },
    { number: 10, name: 'swServiceErrors', type: T.Counter64, value: ([, c], c64) => c64(c.errors) },
    { number: 11, name: 'swServiceBytesIn', type: T.Counter64, value: ([, c], c64) => c64(c.bytesIn) },
  ],
}

const healthTable: TableDef<HealthRow> = {
  name: 'swHealthTable',
  entry: branch.healthEntry,
  indexName: 'swHealthIndex',
  rows: s => s.health.tests(),
  columns: [
    { number: 2, name: 'swHealthName', type: T.OctetString, value: h => text(h.name) },
    { number: 3, name: 'swHealthStatus', type: T.Integer, value: h => healthStatusCodes[h.status] },
    { number: 4, name: 'swHealthLastRun', type: T.OctetString, value: h => dateAndTime(h.lastRun) },
    { number: 5, name: 'swHealthLastOutput', type: T.OctetString, value: h => text(h.output) },
  ],
}

// Row types differ per table; the refresh only needs each table's own rows and columns together.
const tables = [clusterTable, serviceTable, healthTable, quorumTable, pathTable] as ReadonlyArray<TableDef<unknown>>

/// The net-snmp provider definitions for SCANWALL-MIB under `prefix` (the enterprise OID).
export function providerDefinitions (prefix: string): snmp.ProviderDefinition[] {
  const scalarDefs = scalars.map((s): snmp.ProviderDefinition => ({
    name: s.name,
    type: snmp.MibProviderType.Scalar,
    oid: `${prefix}.${branch.node}.${s.sub}`,
    scalarType: s.type,
    maxAccess: readOnly,
    ...(s.name === 'swNodeState' ? { constraints: stateEnum } : {}),
  }))
  const tableDefs = tables.map((t): snmp.ProviderDefinition => ({
    name: t.name,
    type: snmp.MibProviderType.Table,
    oid: `${prefix}.${t.entry}`,
    maxAccess: notAccessible,
    tableColumns: [
      { number: 1, name: t.indexName, type: T.Unsigned32, maxAccess: notAccessible },
      ...t.columns.map(c => ({ number: c.number, name: c.name, type: c.type, maxAccess: readOnly })),
    ],
    tableIndex: [{ columnName: t.indexName }],
  }))
  return [...scalarDefs, ...tableDefs]
}

/// Keeps one net-snmp Mib equal to the node's live state, refreshed per read PDU.
export class MibRefresher {
  readonly #sources: MibSources
  readonly #mib: snmp.Mib
  readonly #rowCounts = new Map<string, number>()
  readonly #c64: Counter64Encoding

  constructor (mib: snmp.Mib, sources: MibSources, c64: Counter64Encoding = counter64) {
    this.#mib = mib
    this.#sources = sources
    this.#c64 = c64
  }

  refresh (): void {
    const r = readout(this.#sources)
    for (const s of scalars) this.#mib.setScalarValue(s.name, s.value(r, this.#c64))
    for (const t of tables) {
      const previous = this.#rowCounts.get(t.name) ?? 0
      for (let i = 1; i <= previous; i++) this.#mib.deleteTableRow(t.name, [i])
      const rows = t.rows(this.#sources)
      rows.forEach((row, i) => this.#mib.addTableRow(t.name, [i + 1, ...t.columns.map(c => c.value(row, this.#c64))]))
      this.#rowCounts.set(t.name, rows.length)
    }
  }
}

/// Runs `refresh` before net-snmp serves each Get, GetNext and GetBulk PDU. net-snmp has no hook for
/// this; Agent and Subagent both dispatch read PDUs through these three methods on `this`, so wrapping
/// them on the instance is the narrowest place. Requests reach them only after USM or community checks.
export function refreshBeforeReads (target: snmp.ReadDispatch, refresh: () => void, onError: (err: unknown) => void): void {
  for (const method of ['getRequest', 'getNextRequest', 'getBulkRequest'] as const) {
    const original = target[method].bind(target)
    target[method] = (...args: unknown[]): void => {
      try {
        refresh()
      } catch (err) {
        // Serve the last good values rather than nothing; the error is logged by the caller.
        onError(err)
      }
      original(...args)
    }
  }
}
