/// Composition root: builds every part of a node from the validated configuration, starts the
/// protocol adapters and handles signals. The only module that wires protocols to services.
import { ScanService } from './scan/service.js'
import { Metrics } from './metrics.js'
import { createLogger, type Logger } from './log.js'
import { defaultProfile, type Profile } from './policy/decide.js'
import { IcapServer } from '../protocols/icap/server.js'
import type { ConfigTree } from '../config/load.js'
import { readBlockTemplate } from './policy/block-page.js'

export interface RunningNode {
  readonly config: ConfigTree
  readonly metrics: Metrics
  readonly scan: ScanService
  readonly icap: IcapServer
  readonly log: Logger
  /// Stops accepting, lets in-flight transactions finish up to the grace period, closes everything.
  stop (): Promise<void>
}

export async function startNode (config: ConfigTree, log = createLogger(config.log.level, config.node.id)): Promise<RunningNode> {
  const metrics = new Metrics()
  const scan = await ScanService.start({
    workers: config.scan.workers,
    maxQueue: config.scan.maxQueue,
    workerMaxOldGenMb: config.scan.workerMaxOldGenMb,
    memoryLimit: config.scan.memoryLimitBytes,
    spoolDir: config.scan.spoolDir,
    timeoutMs: config.scan.timeoutMs,
    signaturesDir: config.signatures.dir,
    signaturesLenient: config.signatures.lenient,
    signaturesCacheDir: config.signatures.cacheDir,
  }, metrics, log)
  const profile: Profile = { ...defaultProfile, failMode: config.scan.failMode === 'open' ? 'open' : 'closed' }
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
  } catch (err) {
    await scan.close()
    throw err
  }
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ graceMs: config.shutdown.graceMs }, 'shutting down')
      await icap.close(config.shutdown.graceMs)
      await scan.close()
      log.info('stopped')
    })()
    await stopping
  }
  return { config, metrics, scan, icap, log, stop }
}
