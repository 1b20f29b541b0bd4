/// What a node tells its peers about itself: load (CPU of this process, memory, scan queue, busy
/// workers, each 0..1) and a version of its configuration so operators can spot nodes that differ.
import { createHash } from 'node:crypto'
import { cpus, totalmem } from 'node:os'
import type { LoadSample } from './types.js'
import type { ClusterInstance } from './config.js'

export interface ScanGauges { readonly queueDepth: number, readonly inFlight: number, readonly poolSize: number }

export function localLoad (scan: ScanGauges, maxQueue: number): () => LoadSample {
  let lastCpu = process.cpuUsage()
  let lastAt = performance.now()
  const cores = Math.max(1, cpus().length)
  return () => {
    const cpu = process.cpuUsage(lastCpu)
    const at = performance.now()
    const elapsedUs = Math.max(1, (at - lastAt) * 1000)
    lastCpu = process.cpuUsage()
    lastAt = at
    const clamp = (x: number): number => Math.min(1, Math.max(0, x))
    return {
      cpu: clamp((cpu.user + cpu.system) / elapsedUs / cores),
      memory: clamp(process.memoryUsage.rss() / totalmem()),
      queue: clamp(scan.queueDepth / Math.max(1, maxQueue)),
      poolBusy: clamp(scan.inFlight / Math.max(1, scan.poolSize)),
    }
  }
}

/// A short digest of the configuration that must agree across nodes (everything but the node's own
/// identity and heartbeat addressing; never the key), so operators can spot nodes that differ.
export function configVersion (config: { readonly node: unknown, readonly cluster: { readonly instances: readonly ClusterInstance[] } }): string {
  const shared = config.cluster.instances.map(i => {
    const { bind, peers, ...rest } = i
    void bind; void peers
    return rest
  })
  const redacted = JSON.stringify({ ...config, node: null, cluster: shared })
  return createHash('sha256').update(redacted).digest('hex').slice(0, 12)
}
