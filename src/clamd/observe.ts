/// Turns what the clamd server reports into the node's counters (service `clamd`, connections,
/// refusals, protocol errors) and its one log line per command (msg "clamd": command, client,
/// listener, bytes, result, threat, ms).
import type { ClamdServer, CommandRecord } from '../../protocols/clamd/index.js'
import type { Metrics } from '../metrics.js'
import type { Logger } from '../log.js'
import { denialCounter } from '../denials.js'

function count (metrics: Metrics, record: CommandRecord): void {
  if (record.result === '-') return
  const svc = metrics.service('clamd')
  svc.requests++
  svc.bytesIn += record.bytes
  if (record.result === 'ok') svc.clean++
  if (record.result === 'found') { svc.infected++; svc.blocked++; metrics.blocks++ }
  if (record.result === 'error') svc.errors++
}

export function observeClamd (server: ClamdServer, metrics: Metrics, log: Logger): void {
  server.on('open', () => { metrics.connectionsOpen++; metrics.connectionsTotal++ })
  server.on('close', () => { metrics.connectionsOpen-- })
  server.on('refused', () => { metrics.overloads++ })
  const denied = denialCounter('clamd', metrics, log)
  server.on('denied', ({ remote }) => { denied(remote) })
  server.on('protocolError', ({ reason, remote }) => {
    metrics.errors++
    log.warn({ client: remote, reason }, 'clamd request not read')
  })
  server.on('command', record => {
    count(metrics, record)
    // One per object: at the usual `warn` level an OK's line is not even built.
    if (record.result !== 'error' && !log.isLevelEnabled('info')) return
    const line = {
      command: record.command,
      client: record.remote,
      listener: record.listener,
      bytes: record.bytes,
      result: record.result,
      ...(record.threat === undefined ? {} : { threat: record.threat }),
      ms: record.ms,
    }
    if (record.result === 'error') log.warn(line, 'clamd')
    else log.info(line, 'clamd')
  })
}
