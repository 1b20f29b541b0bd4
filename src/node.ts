/// Composition root: builds every part of a node from the validated configuration and starts them
/// on one ordered stack (lifecycle.ts): decision records, quarantine, scan service, ICAP server,
/// cluster runtime, SNMP, in that order, each with its stop, so shut-down runs the same list
/// backwards and a part that fails to start stops the ones before it. The only module that wires protocols to services.
import { ScanService } from './scan/service.js'
import { Metrics } from './metrics.js'
import { createLogger, type Logger } from './log.js'
import { defaultProfile, type Profile } from './policy/decide.js'
import type { IcapServer } from 'icap-server-lite'
import { createIcapServer, offeredServices } from './icap/server.js'
import type { ConfigTree } from '../config/load.js'
import type { AddressInfo } from 'node:net'
import { readBlockTemplate } from './policy/block-page.js'
import { readFile } from 'node:fs/promises'
import { SnmpService } from '../protocols/snmp/service.js'
import { StandaloneClusterView, BuiltinHealthView, type ClusterView, type HealthView, type LocalNodeState } from './cluster/view.js'
import { RuntimeClusterView, RuntimeHealthView } from './cluster/runtime-view.js'
import { ClusterRuntime } from './cluster/runtime.js'
import { readClusterKey } from './cluster/key.js'
import { StartedParts } from './lifecycle.js'
import { localLoad, configVersion } from './cluster/local.js'
import { heartbeatChannels } from '../protocols/cluster/channel.js'
import { startRecorder } from './records/open.js'
import type { DecisionRecorder } from './records/writer.js'
import { startQuarantine } from './quarantine/open.js'

export interface RunningNode {
  readonly config: ConfigTree
  readonly metrics: Metrics
  readonly scan: ScanService
  readonly icap: IcapServer
  readonly log: Logger
  /// The SNMP agent and notifications (agent mode 'off' without credentials); undefined when disabled.
  readonly snmp: SnmpService | undefined
  /// The cluster agents (undefined: standalone).
  readonly cluster: ClusterRuntime | undefined
  /// The decision database's writer (undefined: stats.enabled is false).
  readonly recorder: DecisionRecorder | undefined
  /// Node state → draining: the ICAP server finishes current transactions and closes connections
  /// (with `local`: only those made to that address, one cluster instance's virtual address).
  drain (local?: string): void
  /// Stops accepting, lets in-flight transactions finish up to the grace period, closes everything.
  stop (): Promise<void>
}

/// Readers' views of the cluster and of health; the standalone ones describe this node alone.
export interface NodeViews {
  readonly cluster?: ClusterView
  readonly health?: HealthView
}

async function packageVersion (): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}')
  const parsed: unknown = JSON.parse(text)
  return typeof parsed === 'object' && parsed !== null && 'version' in parsed ? String(parsed.version) : 'unknown'
}

export async function startNode (config: ConfigTree, log = createLogger(config.log.level, config.node.id), views: NodeViews = {}): Promise<RunningNode> {
  const metrics = new Metrics()
  const instances = config.cluster.enabled ? config.cluster.instances : []
  // An instance's `services` are the only paths offered on its virtual address (checked before
  // anything starts: an unknown path is a configuration error).
  const servicesAt = offeredServices(config.icap.services, instances.map((i, k) => ({ address: i.vip, services: i.services, where: `cluster.instances[${k}].services` })))
  // Read and checked once, before anything starts: a bad key is a configuration error.
  const clusterKey = instances.length > 0 ? await readClusterKey(config.cluster) : undefined
  const blockTemplate = await readBlockTemplate(config.blockPage.template)
  const parts = new StartedParts(log)
  // First, so a bad database URL or quarantine key fails before the signatures load, and stopped
  // last: the transactions that finish during shut-down are still recorded and written.
  const recorder = await parts.start('decision records', async () => await startRecorder(config.stats, config.node.id, log), async r => { await r?.close() })
  const kept = await parts.start('quarantine', async () => await startQuarantine(config.quarantine, config.node.id, log), k => { k?.stop() })
  const scan = await parts.start('scan service', async () => await ScanService.start({
    workers: config.scan.workers,
    maxQueue: config.scan.maxQueue,
    workerMaxOldGenMb: config.scan.workerMaxOldGenMb,
    inlineMaxBytes: config.scan.inlineMaxBytes,
    memoryLimit: config.scan.memoryLimitBytes,
    spoolDir: config.scan.spoolDir,
    timeoutMs: config.scan.timeoutMs,
    signaturesDir: config.signatures.dir,
    limits: {
      maxScanBytes: config.scan.limits.maxScanSize,
      maxFileBytes: config.scan.limits.maxFileSize,
      maxDepth: config.scan.limits.maxRecursion,
      maxFiles: config.scan.limits.maxFiles,
      maxRatio: config.scan.limits.maxCompressionRatio,
      ratioFloorBytes: config.scan.limits.ratioFloorBytes,
      spoolAboveBytes: config.scan.limits.spoolAboveBytes,
    },
    signaturesLenient: config.signatures.lenient,
    signaturesCacheDir: config.signatures.cacheDir,
  }, metrics, log), async s => { await s.close() })
  const profile: Profile = { ...defaultProfile, blockOversize: config.scan.oversize !== 'allow', failMode: config.scan.failMode, blockBroken: config.scan.alertBrokenContainers }
  const icap = createIcapServer({
    ...config.icap,
    // Each cluster instance's ports are where clients reach its virtual address: listen there too.
    extraPorts: instances.flatMap(i => i.ports),
    // An instance's `services` are the only paths offered on its virtual address.
    servicesAt,
    nodeId: config.node.id,
    maxObjectBytes: config.scan.maxObjectBytes,
    blockTemplate,
    logTransactions: config.log.transactions,
  }, { scan, profile, metrics, log, ...(recorder === undefined ? {} : { recorder }), ...(kept === undefined ? {} : { quarantine: kept.quarantine }) })
  // Shut-down lets in-flight transactions finish up to the grace period (after the cluster has
  // handed this node's buckets to the others, which stops first).
  const address: AddressInfo = await parts.start('ICAP server', async () => await icap.listen(), async () => { await icap.close(config.shutdown.graceMs) })
  log.info({ host: address.address, port: address.port, extraPorts: [...new Set(instances.flatMap(i => i.ports))].filter(p => p !== address.port), services: config.icap.services }, 'ICAP listening')
  const icapAddress = `${address.address}:${address.port}`
  // Draining the whole node (by `scanwall node offline` or the API) is a node state: SNMP reports
  // and traps it. Draining one cluster instance drains only the connections to its virtual address.
  const drain = (local?: string): void => {
    if (local === undefined) metrics.setState('draining')
    icap.drain(local)
  }
  const cluster = clusterKey === undefined
    ? undefined
    : await parts.start('cluster runtime', async () => await ClusterRuntime.start({
      nodeId: config.node.id,
      instances,
      key: clusterKey,
      controlSocket: config.cluster.controlSocket,
      nft: config.cluster.nft,
      configVersion: configVersion(config),
    }, {
      drainIcap: local => icap.drain(local),
      resumeIcap: local => icap.resume(local),
      nodeState: state => metrics.setState(state),
      clusterEvent: event => metrics.events.emit('cluster', event),
      connections: local => local === undefined ? metrics.connectionsOpen : icap.connectionsAt(local),
      onConnections: listener => {
        metrics.events.on('connections', listener)
        return () => { metrics.events.off('connections', listener) }
      },
      load: localLoad(scan, config.scan.maxQueue),
      signatureVersion: () => scan.dbVersion,
      health: {
        icap: { host: config.icap.host === '0.0.0.0' ? '127.0.0.1' : config.icap.host, port: address.port, service: config.icap.services[0] ?? 'avscan' },
        poolProbe: async timeoutMs => await scan.probe(timeoutMs),
        spoolDir: config.scan.spoolDir,
        signaturesDir: config.signatures.dir,
      },
    }, heartbeatChannels(config.node.id, log), log), async c => { await c?.stop() })
  const snmp = !config.snmp.enabled
    ? undefined
    : await parts.start('SNMP', async () => {
      const local: LocalNodeState = { nodeId: config.node.id, address: icapAddress, metrics, maxQueue: config.scan.maxQueue, queueDepth: () => scan.queueDepth, signatureCount: () => scan.signatureCount }
      const clusterView = views.cluster ?? (cluster === undefined ? new StandaloneClusterView(local) : new RuntimeClusterView(cluster, icapAddress))
      // A clustered node shows the health tests that decide whether it stays in the cluster.
      const health = views.health ?? (cluster === undefined ? new BuiltinHealthView(local) : new RuntimeHealthView(cluster))
      return await SnmpService.start(config.snmp, { nodeId: config.node.id, version: await packageVersion(), metrics, scan, cluster: clusterView, health }, log)
    }, async s => { await s.close() })
  metrics.setState('active')
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ graceMs: config.shutdown.graceMs }, 'shutting down')
      metrics.setState('stopping')
      await parts.stop()
      log.info('stopped')
    })()
    await stopping
  }
  return { config, metrics, scan, icap, log, snmp, cluster, recorder, drain, stop }
}
