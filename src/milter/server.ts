/// Scanwall's milter server: the milter protocol package configured from config `milter`,
/// answering with Scanwall's handler (scan, policy, mail profile, quarantine, records, the spam and
/// content filters), counted in the node's metrics. node.ts calls this; undefined when neither a
/// TCP port nor a unix socket is set.
import { MilterServer } from '../../protocols/milter/index.js'
import { listenerPlacement } from '../../protocols/common/placement.js'
import { allowPredicate } from '../../config/networks.js'
import type { ScanService } from '../scan/service.js'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import type { ConfigTree } from '../../config/load.js'
import type { Recorder } from '../records/recorder.js'
import type { Quarantine } from '../quarantine/keeper.js'
import { defaultProfile, type Profile } from '../policy/decide.js'
import { ScanwallMilterHandler } from './handler.js'
import { filtersOf, replyTemplate } from './filters.js'
import type { SendNotice } from './content-step.js'
import type { MailFilters } from '../spam/setup.js'
import { messageReporter, observeMilterServer } from './observe.js'
import { skipCheck } from './skip.js'
import { busyCheck } from './busy.js'
import type { MessageRecord } from './record.js'

export interface ScanwallMilterDeps {
  readonly scan: ScanService
  readonly metrics: Metrics
  readonly log: Logger
  readonly version: string
  readonly nodeId: string
  readonly maxObjectBytes: number
  /// scan.alertBrokenContainers: damaged containers count as infected.
  readonly blockBroken: boolean
  /// Extra TCP ports: the ports of cluster instances that offer the milter.
  readonly extraPorts: readonly number[]
  readonly recorder?: Recorder
  readonly quarantine?: Quarantine
  /// Told about every message after the log line (usage, notifications).
  readonly onMessage?: (record: MessageRecord) => void
  /// The node's spam and content filters (milter.filters says which run here).
  readonly mail?: MailFilters
  /// The SMTP notifier's send, for the content rules' notifications.
  readonly send?: SendNotice
}

/// Macros asked for per stage: the client, the SASL user and the queue id.
const macros = {
  connect: ['j', '{client_addr}', '{client_name}', '{daemon_name}'],
  mail: ['i', '{auth_authen}', '{auth_type}'],
  eom: ['i', '{auth_authen}'],
}

/// The mail profile's policy: limits and scan failures are blocks (the mail actions say what a
/// block of each kind does), encrypted parts as configured, damaged ones as the scan section says.
export function milterPolicy (config: ConfigTree['milter'], blockBroken: boolean): Profile {
  return { ...defaultProfile, blockLimits: true, blockOversize: true, failMode: 'closed', blockEncrypted: config.blockEncrypted, blockBroken }
}

export function createMilterServer (config: ConfigTree['milter'], deps: ScanwallMilterDeps): MilterServer | undefined {
  const placement = listenerPlacement(config.port, config.socket, deps.extraPorts)
  if (placement === undefined) return undefined
  const report = messageReporter(deps.metrics, deps.log)
  const early = skipCheck(config.skip)
  const beforeScan = busyCheck(config.busy)
  const filters = filtersOf(config, deps.mail, deps.send)
  const handler = new ScanwallMilterHandler({
    scan: deps.scan,
    profile: milterPolicy(config, deps.blockBroken),
    actions: config.actions,
    maxObjectBytes: deps.maxObjectBytes,
    rejectReply: replyTemplate(config.rejectReply),
    tempfailReply: replyTemplate(config.tempfailReply),
    statusHeaders: config.statusHeaders,
    version: deps.version,
    nodeName: config.nodeHeader ? deps.nodeId : undefined,
    ...(deps.quarantine === undefined ? {} : { quarantine: deps.quarantine }),
    ...(deps.recorder === undefined ? {} : { recorder: deps.recorder }),
    ...(early === undefined ? {} : { early }),
    ...(beforeScan === undefined ? {} : { beforeScan }),
    filters,
    report: record => { report(record); deps.onMessage?.(record) },
  })
  const server = new MilterServer({
    host: config.host,
    ...placement,
    maxConnections: config.maxConnections,
    admit: allowPredicate(config.allow),
    limits: { maxPacketBytes: config.maxPacketBytes, maxHeaders: config.maxHeaders, maxMessageBytes: config.maxMessageBytes },
    idleTimeoutMs: config.idleTimeoutMs,
    progressMs: config.progressMs,
    // Without skip lists MAIL FROM has nothing to answer: Postfix is told so, a round trip per message.
    mailVerdicts: early !== undefined,
    macros,
  }, handler, deps.log)
  observeMilterServer(server, deps.metrics, deps.log)
  return server
}
