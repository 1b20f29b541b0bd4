/// Composition root: builds every part of a node from the validated configuration and starts them
/// on one ordered stack (lifecycle.ts): decision records, quarantine, scan service, ICAP server,
/// clamd server, milter server, cluster runtime, signature updates, SNMP, console, in that order, each with its stop, so shut-down runs the same
/// list backwards and a part that fails to start stops the ones before it. The only module that wires protocols to services.
import { ScanService } from './scan/service.js'
import { Metrics } from './metrics.js'
import { createLogger, type Logger } from './log.js'
import { PolicyHolder, PolicySet } from './policy/policy-set.js'
import type { IcapServer } from 'icap-server-lite'
import { createIcapServer, offeredServices } from './icap/server.js'
import { allowPredicate } from '../config/networks.js'
import { icapTlsOptions } from './icap/tls.js'
import type { ConfigTree } from '../config/load.js'
import type { AddressInfo } from 'node:net'
import { readBlockTemplate } from './policy/block-page.js'
import { readFile } from 'node:fs/promises'
import { SnmpService } from '../protocols/snmp/service.js'
import { readout } from '../protocols/snmp/mib.js'
import { StandaloneClusterView, BuiltinHealthView, type ClusterView, type HealthView, type LocalNodeState } from './cluster/view.js'
import { RuntimeClusterView, RuntimeHealthView } from './cluster/runtime-view.js'
import { ClusterRuntime } from './cluster/runtime.js'
import type { ReloadResult } from './cluster/control-reply.js'
import { readClusterKey } from './cluster/key.js'
import { StartedParts } from './lifecycle.js'
import { localLoad, configVersion } from './cluster/local.js'
import { heartbeatChannels } from '../protocols/cluster/channel.js'
import { UpdateService, startingDir, type FetcherRole, type UpdatesOptions } from './updates/service.js'
import { updateTrustFrom } from './updates/keys.js'
import { ScanwallError, errorMessage } from './errors.js'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClamdServer } from '../protocols/clamd/index.js'
import { clamdLocalRoots, createClamdServer } from './clamd/server.js'
import { startRecorder } from './records/open.js'
import type { DecisionRecorder } from './records/writer.js'
import { startQuarantine } from './quarantine/open.js'
import type { MilterServer } from '../protocols/milter/index.js'
import { createMilterServer } from './milter/server.js'
import { Notifier } from './milter/notify.js'
import { startConsole } from './console/open.js'
import { startMailFilters, uploadCheck, type MailFilters } from './spam/setup.js'
import { learnReleased } from './spam/release.js'

export interface RunningNode {
  readonly config: ConfigTree
  readonly metrics: Metrics
  readonly scan: ScanService
  readonly icap: IcapServer
  /// The clamd-protocol server; undefined when clamd.port is 0 and no clamd.socket is set.
  readonly clamd: ClamdServer | undefined
  /// The milter server (Postfix/Sendmail); undefined when milter.port is 0 and no milter.socket is set.
  readonly milter: MilterServer | undefined
  readonly log: Logger
  /// The SNMP agent and notifications (agent mode 'off' without credentials); undefined when disabled.
  readonly snmp: SnmpService | undefined
  /// The cluster agents (undefined: standalone).
  readonly cluster: ClusterRuntime | undefined
  /// Signature updates (schedule, watches, version label).
  readonly updates: UpdateService
  /// The decision database's writer (undefined: stats.enabled is false).
  readonly recorder: DecisionRecorder | undefined
  /// The policy in force (profiles, lists); replaced by reloadPolicy.
  readonly policy: PolicyHolder
  /// Applies the policy of a new configuration (policy.*, clamd.profile, the lists, the scan and
  /// icap keys profiles default to) to the next transactions; connections stay. A bad one throws
  /// (CONFIG_INVALID with the reason) and the old policy keeps serving.
  reloadPolicy (next: ConfigTree): void
  /// The spam and content filters (issue #14) for the milter adapter (docs/spam.md).
  readonly mail: MailFilters
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

export interface NodeHooks {
  /// A client asked the node to stop (clamd SHUTDOWN with clamd.allowShutdown): the CLI runs its
  /// signal path; without a hook the node stops itself.
  readonly requestStop?: () => void
  /// `scanwall reload` through the control socket: read the --config file again and apply it (the
  /// CLI knows the file); absent: the control socket answers that it cannot.
  readonly reload?: () => ReloadResult
}

/// The ports of cluster instances that carry clamd (those equal to clamd.port) are the clamd
/// server's, those equal to milter.port the milter server's (a `mail` instance); every other
/// instance port is ICAP's. A port shared by two listeners is refused.
function splitPorts (config: ConfigTree, instancePorts: readonly number[]): { icap: number[], clamd: number[], milter: number[] } {
  const clamdPort = config.clamd.port
  const milterPort = config.milter.port
  if (clamdPort !== 0 && clamdPort === config.icap.port) throw new ScanwallError('CONFIG_INVALID', `clamd.port ${clamdPort} is icap.port too: give clamd its own port`)
  if (milterPort !== 0 && (milterPort === config.icap.port || milterPort === clamdPort)) throw new ScanwallError('CONFIG_INVALID', `milter.port ${milterPort} is used by another listener: give the milter its own port`)
  const taken = (p: number, port: number): boolean => port !== 0 && p === port
  return {
    icap: instancePorts.filter(p => !taken(p, clamdPort) && !taken(p, milterPort)),
    clamd: instancePorts.filter(p => taken(p, clamdPort)),
    milter: instancePorts.filter(p => taken(p, milterPort)),
  }
}

async function packageVersion (): Promise<string> {
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}')
  const parsed: unknown = JSON.parse(text)
  return typeof parsed === 'object' && parsed !== null && 'version' in parsed ? String(parsed.version) : 'unknown'
}

export async function startNode (config: ConfigTree, log = createLogger(config.log.level, config.node.id), views: NodeViews = {}, hooks: NodeHooks = {}): Promise<RunningNode> {
  const metrics = new Metrics()
  const instances = config.cluster.enabled ? config.cluster.instances : []
  // An instance's `services` are the only paths offered on its virtual address (checked before
  // anything starts: an unknown path is a configuration error).
  const servicesAt = offeredServices(config.icap.services, instances.map((i, k) => ({ address: i.vip, services: i.services, where: `cluster.instances[${k}].services` })))
  // Read and checked once, before anything starts: a bad key is a configuration error.
  const clusterKey = instances.length > 0 ? await readClusterKey(config.cluster) : undefined
  const blockTemplate = await readBlockTemplate(config.blockPage.template)
  // icaps:// certificate and key read and checked before anything starts.
  const tls = await icapTlsOptions(config.icap.tls)
  // Profiles and their lists, checked before anything starts: a bad one is a configuration error.
  const firstPolicy = PolicySet.build(config)
  // Scanwall's own cache directory, created at start: a node that cannot write it says so at once.
  await mkdir(config.signatures.cacheDir, { recursive: true }).catch((err: unknown) => {
    throw new ScanwallError('CONFIG_INVALID', `signatures.cacheDir: cannot create ${config.signatures.cacheDir}: ${errorMessage(err)}`)
  })
  const updatesOptions: UpdatesOptions = {
    ...config.updates,
    trust: updateTrustFrom(config.updates),
    cacheDir: config.signatures.cacheDir,
    signaturesDir: config.signatures.dir,
  }
  const firstDir = await startingDir(updatesOptions)
  const ports = splitPorts(config, instances.flatMap(i => i.ports))
  const clamdRoots = await clamdLocalRoots(config.clamd)
  const parts = new StartedParts(log)
  // The policy's list watches stop with the node (and when a later part fails to start).
  const policy = await parts.start('policy', () => new PolicyHolder(firstPolicy, config.policy.listDebounceMs, log), p => { p.close() })
  // First, so a bad database URL or quarantine key fails before the signatures load, and stopped
  // last: the transactions that finish during shut-down are still recorded and written.
  const recorder = await parts.start('decision records', async () => await startRecorder(config.stats, config.node.id, log), async r => { await r?.close() })
  const kept = await parts.start('quarantine', async () => await startQuarantine(config.quarantine, config.node.id, log), k => { k?.stop() })
  // The spam and content filters (issue #14): the milter adapter takes them from the node; REQMOD
  // uploads go through the content filter when contentFilter.icap is on.
  const mail = await parts.start('mail filters', async () => await startMailFilters(config.spam, config.contentFilter, config.stats, config.node.id, log), async m => { await m.stop() })
  const uploads = config.contentFilter.icap ? uploadCheck(mail, log) : undefined
  const scan = await parts.start('scan service', async () => await ScanService.start({
    workers: config.scan.workers,
    maxQueue: config.scan.maxQueue,
    workerMaxOldGenMb: config.scan.workerMaxOldGenMb,
    inlineMaxBytes: config.scan.inlineMaxBytes,
    leafThread: config.scan.leafThread,
    memoryLimit: config.scan.memoryLimitBytes,
    spoolDir: config.scan.spoolDir,
    timeoutMs: config.scan.timeoutMs,
    signaturesDir: firstDir,
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
    signaturesCacheDir: join(config.signatures.cacheDir, 'compiled'),
    signaturesCacheBytes: config.signatures.compiledCacheBytes,
    ...(config.scan.cache.enabled ? { cache: config.scan.cache } : {}),
  }, metrics, log), async s => { await s.close() })
  const { allow: icapAllow, tls: _tls, ...icapConfig } = config.icap
  const icap = createIcapServer({
    ...icapConfig,
    admit: allowPredicate(icapAllow),
    tls,
    // Each cluster instance's ports are where clients reach its virtual address: listen there too.
    extraPorts: ports.icap,
    // An instance's `services` are the only paths offered on its virtual address.
    servicesAt,
    nodeId: config.node.id,
    maxObjectBytes: config.scan.maxObjectBytes,
    blockTemplate,
    logTransactions: config.log.transactions,
  }, { scan, policy, metrics, log, ...(recorder === undefined ? {} : { recorder }), ...(kept === undefined ? {} : { quarantine: kept.quarantine }), ...(uploads === undefined ? {} : { uploads }) })
  // Shut-down lets in-flight transactions finish up to the grace period (after the cluster has
  // handed this node's buckets to the others, which stops first).
  const address: AddressInfo = await parts.start('ICAP server', async () => await icap.listen(), async () => { await icap.close(config.shutdown.graceMs) })
  log.info({ host: address.address, port: address.port, extraPorts: [...new Set(instances.flatMap(i => i.ports))].filter(p => p !== address.port), services: config.icap.services, tlsPort: icap.tlsAddress?.port }, 'ICAP listening')
  const icapAddress = `${address.address}:${address.port}`
  // A SHUTDOWN from a clamd client (when allowed) stops the node the way a signal does.
  const requestStop = (): void => { if (hooks.requestStop !== undefined) hooks.requestStop(); else void stop() }
  const clamd = createClamdServer(config.clamd, clamdRoots, {
    ...(recorder === undefined ? {} : { recorder }),
    scan,
    metrics,
    log,
    version: await packageVersion(),
    policy,
    maxObjectBytes: config.scan.maxObjectBytes,
    extraPorts: ports.clamd.filter(p => p !== config.clamd.port),
    shutdown: requestStop,
  })
  if (clamd !== undefined) {
    const at = await parts.start('clamd server', async () => await clamd.listen(), async () => { await clamd.close(config.shutdown.graceMs) })
    log.info({ host: at?.address, port: at?.port, socket: config.clamd.socket === '' ? undefined : config.clamd.socket, localScan: config.clamd.localScan.enabled }, 'clamd listening')
  }
  const notifier = config.milter.notify.enabled ? new Notifier(config.milter.notify, config.node.id, log) : undefined
  const milter = createMilterServer(config.milter, {
    ...(recorder === undefined ? {} : { recorder }),
    ...(notifier === undefined ? {} : { onMessage: (record: Parameters<Notifier['notify']>[0]) => { notifier.notify(record) }, send: (to: readonly string[], subject: string, text: string) => { notifier.send(to, subject, text) } }),
    ...(kept === undefined ? {} : { quarantine: kept.quarantine }),
    scan,
    mail,
    metrics,
    log,
    version: await packageVersion(),
    nodeId: config.node.id,
    maxObjectBytes: config.scan.maxObjectBytes,
    blockBroken: config.scan.alertBrokenContainers,
    extraPorts: ports.milter.filter(p => p !== config.milter.port),
  })
  if (milter !== undefined) {
    const at = await parts.start('milter server', async () => await milter.listen(), async () => { await milter.close(config.shutdown.graceMs); notifier?.close() })
    log.info({ host: at?.address, port: at?.port, socket: config.milter.socket === '' ? undefined : config.milter.socket }, 'milter listening')
  }
  // Draining the whole node (by `scanwall node offline` or the API) is a node state: SNMP reports
  // and traps it. Draining one cluster instance drains only the connections to its virtual address.
  const drain = (local?: string): void => {
    if (local === undefined) metrics.setState('draining')
    icap.drain(local)
    clamd?.drain(local)
    milter?.drain(local)
  }
  // Started after the cluster runtime, whose heartbeats report its version from then on.
  const late: { updates?: UpdateService } = {}
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
      drainIcap: local => { icap.drain(local); clamd?.drain(local); milter?.drain(local) },
      resumeIcap: local => { icap.resume(local); clamd?.resume(local); milter?.resume(local) },
      nodeState: state => metrics.setState(state),
      clusterEvent: event => metrics.events.emit('cluster', event),
      connections: local => local === undefined ? metrics.connectionsOpen : icap.connectionsAt(local) + (clamd?.connectionsAt(local) ?? 0) + (milter?.connectionsAt(local) ?? 0),
      onConnections: listener => {
        metrics.events.on('connections', listener)
        return () => { metrics.events.off('connections', listener) }
      },
      load: localLoad(scan, config.scan.maxQueue),
      // What the node runs as the cluster compares it: container versions once updates started.
      signatureVersion: () => late.updates?.version ?? scan.dbVersion,
      ...(hooks.reload === undefined ? {} : { reload: hooks.reload }),
      health: {
        icap: { host: config.icap.host === '0.0.0.0' ? '127.0.0.1' : config.icap.host, port: address.port, service: config.icap.services[0] ?? 'avscan' },
        poolProbe: async timeoutMs => await scan.probe(timeoutMs),
        spoolDir: config.scan.spoolDir,
        signaturesDir: config.signatures.dir,
      },
    }, heartbeatChannels(config.node.id, log), log), async c => { await c?.stop() })
  const updatesRef: UpdateService = await parts.start('signature updates', async () => await UpdateService.start(updatesOptions, {
    reload: async dir => await scan.reload(dir),
    dbVersion: () => scan.dbVersion,
    ...(cluster === undefined || clusterKey === undefined
      ? {}
      : {
          fetcher: () => fetcherOf(cluster),
          ...(config.updates.peerPort === 0 || config.updates.mirror === '' ? {} : { peer: { key: clusterKey, host: config.updates.peerHost, port: config.updates.peerPort } }),
        }),
  }, firstDir, log), async u => { await u.stop() })
  late.updates = updatesRef
  // What SNMP and the console read about the cluster and health.
  const local: LocalNodeState = { nodeId: config.node.id, address: icapAddress, metrics, maxQueue: config.scan.maxQueue, queueDepth: () => scan.queueDepth, signatureCount: () => scan.signatureCount, signatureVersion: () => updatesRef.version }
  const clusterView = views.cluster ?? (cluster === undefined ? new StandaloneClusterView(local) : new RuntimeClusterView(cluster, icapAddress))
  // A clustered node shows the health tests that decide whether it stays in the cluster.
  const health = views.health ?? (cluster === undefined ? new BuiltinHealthView(local) : new RuntimeHealthView(cluster))
  const version = await packageVersion()
  const snmp = !config.snmp.enabled
    ? undefined
    : await parts.start('SNMP', async () => await SnmpService.start(config.snmp, { nodeId: config.node.id, version, metrics, scan, cluster: clusterView, health }, log), async s => { await s.close() })
  // The management console, its API and /metrics (issue #16); none when console.port is 0.
  await parts.start('console', async () => await startConsole(config, {
    nodeId: config.node.id,
    version,
    metrics,
    readout: () => readout({ nodeId: config.node.id, version, metrics, scan, cluster: clusterView, health }),
    cluster: clusterView,
    health,
    runtime: cluster,
    log,
    updates: { get version () { return updatesRef.version }, store: updatesRef.store, check: async reason => { await updatesRef.check(reason) } },
    mirror: config.updates.mirror.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1(credentials)@'),
    quarantine: kept?.quarantine.store,
    recorder,
    learnReleased: kept === undefined || mail.learner === undefined ? undefined : async entry => await learnReleased(kept.quarantine.store, entry, mail.learner),
  }, clusterKey), async c => { await c?.stop() })
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
  const reloadPolicy = (next: ConfigTree): void => {
    policy.replace(PolicySet.build(next), next.policy.listDebounceMs)
    log.info({ profiles: [...policy.current.profiles.keys()], lists: policy.current.lists.map(l => ({ path: l.path, entries: l.size })) }, 'policy reloaded')
  }
  return { config, metrics, scan, icap, clamd, milter, log, snmp, cluster, updates: updatesRef, recorder, policy, reloadPolicy, mail, drain, stop }
}

/// The cluster's fetcher: the lowest id among the live nodes (joining, online or draining) of any
/// instance; unknown while that node, or this one, is still joining (membership not settled: two
/// nodes starting a moment apart must not both elect themselves) or its address is not known yet.
function fetcherOf (cluster: ClusterRuntime): FetcherRole {
  const nodes = Object.values(cluster.status()).flatMap(i => i.nodes)
  if (nodes.some(n => n.self && n.state === 'joining')) return { role: 'unknown' }
  const live = nodes.filter(n => n.state === 'online' || n.state === 'draining' || n.state === 'joining').sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  const first = live[0]
  if (first === undefined || first.state === 'joining') return { role: 'unknown' }
  if (first.self) return { role: 'self' }
  const host = first.address?.replace(/^\[?([^\]]*?)\]?:\d+$/, '$1')
  return host === undefined || host === '' ? { role: 'unknown' } : { role: 'peer', host, version: first.signatureVersion }
}
