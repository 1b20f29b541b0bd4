/// Turns what the ICAP server reports into the node's counters and its one log line per transaction
/// (msg "icap": method, service, client, user, url, bytes, verdict, threat, ms, status, outcome),
/// written for every transaction, only flagged ones (the default: the decision database keeps
/// the record, and a line per clean object cost ~2 GB an hour at 5,700 transactions/s) or none.
import type { IcapServer, TransactionRecord } from 'icap-server-lite'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import { denialCounter } from '../denials.js'

function count (metrics: Metrics, record: TransactionRecord): void {
  if (record.primary !== undefined) {
    const svc = metrics.service(record.service)
    svc.requests++
    if (record.method === 'REQMOD') svc.reqmod++
    else if (record.method === 'RESPMOD') svc.respmod++
    else svc.options++
    svc.bytesIn += record.bytes
    if (record.answer === 'allow') svc.clean++
    if (record.verdict === 'infected') svc.infected++
    if (record.answer === 'replace') svc.blocked++
    if (record.outcome === 'error' || record.status >= 400) svc.errors++
  }
  if (record.answer === 'replace') metrics.blocks++
  // Aborted before the handler was asked (mid-body): the scan service never saw it to count it.
  if (record.outcome === 'aborted' && record.answer === undefined) metrics.aborted++
}

export type TransactionLog = 'all' | 'flagged' | 'none'

/// Worth a line under `flagged`: anything but a clean object (or a message without one, or one the
/// profile lets through unscanned: a list or a skipped type, what the administrator asked for) answered.
export function flagged (record: TransactionRecord): boolean {
  if (record.outcome !== 'answered') return true
  if (record.answer !== undefined && record.answer !== 'allow') return true
  return record.verdict !== 'clean' && record.verdict !== '-' && record.verdict !== 'no-body' && record.verdict !== 'unscanned'
}

export function observeIcap (server: IcapServer, metrics: Metrics, log: Logger, transactions: TransactionLog = 'all'): void {
  server.on('open', () => { metrics.connectionsOpen++; metrics.connectionsTotal++ })
  server.on('close', () => { metrics.connectionsOpen-- })
  server.on('refused', () => { metrics.overloads++ })
  const denied = denialCounter('icap', metrics, log)
  server.on('denied', ({ remote }) => { denied(remote) })
  const certRefused = denialCounter('icaps', metrics, log, 'icaps connection refused: TLS handshake or client certificate failed')
  server.on('tlsRefused', ({ remote, reason }) => { certRefused(remote, reason) })
  server.on('protocolError', () => { metrics.errors++ })
  server.on('stall', () => { metrics.squidStalls++ })
  server.on('transaction', record => {
    count(metrics, record)
    if (transactions === 'none' || (transactions === 'flagged' && !flagged(record))) return
    const line = {
      method: record.method,
      service: record.service,
      client: record.client,
      ...(record.user === undefined ? {} : { user: record.user }),
      url: record.url,
      bytes: record.bytes,
      verdict: record.verdict,
      ...(record.threat === undefined ? {} : { threat: record.threat }),
      ms: record.ms,
      status: record.status,
      outcome: record.outcome,
    }
    if (record.outcome === 'answered') log.info(line, 'icap')
    else log.warn(line, 'icap')
  })
}
