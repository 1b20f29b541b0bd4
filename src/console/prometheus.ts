/// /metrics in the Prometheus text format (prom-client): the same numbers SNMP's SCANWALL-MIB
/// serves, read from the same readout at scrape time (protocols/snmp/mib.ts, handed in), so the two never
/// disagree: node scalars, the service table, the cluster table, the health table. Collected on
/// each scrape from live counters: nothing is updated on the hot path for it.
import { Registry, Gauge, Counter } from 'prom-client'
import type { Metrics, Readout as NodeReadout } from '../metrics.js'
import type { ClusterView, HealthView } from '../cluster/view.js'

export interface MetricsSources {
  readonly nodeId: string
  readonly metrics: Metrics
  readonly readout: () => NodeReadout
  readonly cluster: ClusterView
  readonly health: HealthView
}

const stateCodes: Readonly<Record<string, number>> = { starting: 1, active: 2, draining: 3, stopping: 4, failed: 5, offline: 6 }
const healthCodes: Readonly<Record<string, number>> = { unknown: 0, ok: 1, failed: 2 }

export function metricsRegistry (sources: MetricsSources): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ node: sources.nodeId })
  // One readout per scrape, shared by every collector of that scrape.
  let cached: { at: number, r: NodeReadout } | undefined
  const r = (): NodeReadout => {
    const now = Date.now()
    if (cached === undefined || now - cached.at > 50) cached = { at: now, r: sources.readout() }
    return cached.r
  }
  const counter = (name: string, help: string, value: () => number): void => {
    registry.registerMetric(new Counter({ name, help, registers: [], collect () { this.reset(); this.inc(value()) } }))
  }
  const gauge = (name: string, help: string, value: () => number): void => {
    registry.registerMetric(new Gauge({ name, help, registers: [], collect () { this.set(value()) } }))
  }
  gauge('scanwall_node_state', 'swNodeState: 1 starting, 2 active, 3 draining, 4 stopping', () => stateCodes[r().state] ?? 0)
  gauge('scanwall_uptime_seconds', 'swNodeUptime', () => r().uptimeMs / 1000)
  gauge('scanwall_signatures', 'swSigCount: signatures loaded', () => r().signatures)
  gauge('scanwall_signatures_loaded_timestamp_seconds', 'swSigDbDate', () => r().dbLoadedAt / 1000)
  registry.registerMetric(new Gauge({ name: 'scanwall_signatures_info', help: 'swSigDbVersion as a label', labelNames: ['version'], registers: [], collect () { this.reset(); this.set({ version: r().dbVersion }, 1) } }))
  gauge('scanwall_pool_size', 'swPoolSize: scan workers', () => r().poolSize)
  gauge('scanwall_pool_busy', 'swPoolBusy: workers scanning now', () => r().poolBusy)
  gauge('scanwall_queue_depth', 'swQueueDepth: scans waiting for a worker', () => r().queueDepth)
  counter('scanwall_requests_total', 'swRequests', () => r().requests)
  counter('scanwall_objects_scanned_total', 'swObjectsScanned', () => r().objects)
  counter('scanwall_bytes_scanned_total', 'swBytesScanned', () => r().bytes)
  counter('scanwall_infections_total', 'swInfections', () => r().infections)
  counter('scanwall_blocks_total', 'swBlocks', () => r().blocks)
  counter('scanwall_errors_total', 'swErrors', () => r().errors)
  counter('scanwall_timeouts_total', 'swTimeouts', () => r().timeouts)
  gauge('scanwall_latency_avg_seconds', 'swLatencyAvg', () => r().latencyAvgUs / 1e6)
  gauge('scanwall_latency_p99_seconds', 'swLatencyP99', () => r().latencyP99Us / 1e6)
  const services = [['requests', 'swServiceRequests'], ['reqmod', 'swServiceReqmod'], ['respmod', 'swServiceRespmod'], ['options', 'swServiceOptions'], ['clean', 'swServiceClean'],
    ['infected', 'swServiceInfected'], ['blocked', 'swServiceBlocked'], ['errors', 'swServiceErrors'], ['bytesIn', 'swServiceBytesIn']] as const
  for (const [field, mib] of services) {
    const name = `scanwall_service_${field.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)}_total`
    registry.registerMetric(new Counter({
      name,
      help: `${mib} per service`,
      labelNames: ['service'],
      registers: [],
      collect () { this.reset(); for (const [service, c] of sources.metrics.services) this.inc({ service }, c[field]) },
    }))
  }
  const clusterGauge = (name: string, help: string, value: (n: ReturnType<ClusterView['nodes']>[number]) => number): void => {
    registry.registerMetric(new Gauge({
      name,
      help,
      labelNames: ['instance', 'member'],
      registers: [],
      collect () { this.reset(); for (const n of sources.cluster.nodes()) this.set({ instance: n.instance, member: n.nodeId }, value(n)) },
    }))
  }
  clusterGauge('scanwall_cluster_state', 'swClusterState per instance and member (codes as scanwall_node_state)', n => stateCodes[n.state] ?? 0)
  clusterGauge('scanwall_cluster_weight', 'swClusterWeight', n => n.weight)
  clusterGauge('scanwall_cluster_buckets', 'swClusterBuckets: buckets the member owns', n => n.buckets)
  clusterGauge('scanwall_cluster_load_percent', 'swClusterLoad', n => n.load)
  clusterGauge('scanwall_cluster_last_heartbeat_timestamp_seconds', 'swClusterLastHeartbeat', n => n.lastHeartbeat / 1000)
  registry.registerMetric(new Gauge({
    name: 'scanwall_health_status',
    help: 'swHealthStatus: 0 unknown, 1 ok, 2 failed',
    labelNames: ['test'],
    registers: [],
    collect () { this.reset(); for (const h of sources.health.tests()) this.set({ test: h.name }, healthCodes[h.status] ?? 0) },
  }))
  return registry
}
