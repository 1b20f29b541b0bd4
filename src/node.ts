/// Composition root: builds every part of a node from the validated configuration, starts the
/// protocol adapters and handles signals. The only module that wires protocols to services.
import { ScanService } from './scan/service.js'
import { Metrics } from './metrics.js'
import { createLogger, type Logger } from './log.js'
import { defaultProfile, type Profile } from './policy/decide.js'
import { IcapServer } from '../protocols/icap/server.js'
import type { ConfigTree } from '../config/load.js'
import { readBlockTemplate } from './policy/block-page.js'
import { readFile } from 'node:fs/promises'
import { SnmpService } from '../protocols/snmp/service.js'
import { StandaloneClusterView, BuiltinHealthView, type ClusterView, type HealthView, type LocalNodeState } from './cluster/view.js'

export interface RunningNode {
  readonly config: ConfigTree
  readonly metrics: Metrics
  readonly scan: ScanService
  readonly icap: IcapServer
  readonly log: Logger
  /// The SNMP agent and notifications (agent mode 'off' without credentials); undefined when disabled.
  readonly snmp: SnmpService | undefined
  /// Node state → draining: the ICAP server finishes current transactions and closes connections.
  drain (): void
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
  const scan = await ScanService.start({
    workers: config.scan.workers,
    maxQueue: config.scan.maxQueue,
    workerMaxOldGenMb: config.scan.workerMaxOldGenMb,
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
  }, metrics, log)
  const profile: Profile = { ...defaultProfile, failMode: config.scan.failMode === 'open' ? 'open' : 'closed' }
  let icapAddress = ''
  const icap = new IcapServer({
    ...config.icap,
    nodeId: config.node.id,
    maxObjectBytes: config.scan.maxObjectBytes,
    oversize: config.scan.oversize === 'allow' ? 'allow' : 'block',
    blockTemplate: await readBlockTemplate(config.blockPage.template),
  }, { scan, profile, metrics, log })
  try {
    const address = await icap.listen()
    log.info({ host: address.address, port: address.port, services: config.icap.services }, 'ICAP listening')
    icapAddress = `${address.address}:${address.port}`
  } catch (err) {
    await scan.close()
    throw err
  }
  let snmp: SnmpService | undefined
  if (config.snmp.enabled) {
    const local: LocalNodeState = { nodeId: config.node.id, address: icapAddress, metrics, maxQueue: config.scan.maxQueue, queueDepth: () => scan.queueDepth, signatureCount: () => scan.signatureCount }
    const cluster = views.cluster ?? new StandaloneClusterView(local)
    const health = views.health ?? new BuiltinHealthView(local)
    try {
      snmp = await SnmpService.start(config.snmp, { nodeId: config.node.id, version: await packageVersion(), metrics, scan, cluster, health }, log)
    } catch (err) {
      await icap.close(0)
      await scan.close()
      throw err
    }
  }
  metrics.setState('active')
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ graceMs: config.shutdown.graceMs }, 'shutting down')
      metrics.setState('stopping')
      await icap.close(config.shutdown.graceMs)
      await snmp?.close()
      await scan.close()
      log.info('stopped')
    })()
    await stopping
  }
  const drain = (): void => {
    metrics.setState('draining')
    icap.drain()
  }
  return { config, metrics, scan, icap, log, snmp, drain, stop }
}
