/// Turns what the milter server and handler report into the node's counters (service `milter`,
/// connections, refusals, clients outside milter.allow, protocol errors) and one log line per message (msg "milter": queue id,
/// client, sender, recipients, size, verdict, threat, action, the spam/content filter's result, ms).
import type { MilterServer } from '../../protocols/milter/index.js'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import { bare, type MessageRecord } from './record.js'
import { denialCounter } from '../denials.js'

export function observeMilterServer (server: MilterServer, metrics: Metrics, log: Logger): void {
  server.on('open', () => { metrics.connectionsOpen++; metrics.connectionsTotal++ })
  server.on('close', () => { metrics.connectionsOpen-- })
  server.on('refused', () => { metrics.overloads++ })
  const denied = denialCounter('milter', metrics, log)
  server.on('denied', ({ remote }) => { denied(remote) })
  server.on('aborted', () => { metrics.aborted++ })
  server.on('protocolError', ({ reason, remote }) => {
    metrics.errors++
    log.warn({ client: remote, reason }, 'milter connection closed')
  })
}

/// The report callback of the handler: counters and the message's log line.
export function messageReporter (metrics: Metrics, log: Logger): (record: MessageRecord) => void {
  return record => {
    const svc = metrics.service('milter')
    svc.requests++
    svc.bytesIn += record.size
    if (record.verdict === 'clean') svc.clean++
    if (record.verdict === 'infected') svc.infected++
    if ((['reject', 'discard', 'quarantine'].includes(record.action) && record.threat !== undefined) || record.filter?.stopped === true) { svc.blocked++; metrics.blocks++ }
    const failed = record.verdict === 'error' || record.verdict === 'timeout'
    if (failed) svc.errors++
    // The line is built only when it is written (a node at level warn logs failures alone).
    if (!log.isLevelEnabled(failed ? 'warn' : 'info')) return
    const e = record.envelope
    const line = {
      queueId: e.macros.get('i') ?? '',
      client: e.client?.address ?? '',
      sender: bare(e.sender),
      recipients: e.recipients.map(bare),
      size: record.size,
      verdict: record.verdict,
      ...(record.threat === undefined ? {} : { threat: record.threat }),
      action: record.action,
      ...(record.quarantineId === undefined ? {} : { quarantineId: record.quarantineId }),
      ...(record.filter === undefined ? {} : { filter: record.filter }),
      ms: record.ms,
    }
    if (failed) log.warn(line, 'milter')
    else log.info(line, 'milter')
  }
}
