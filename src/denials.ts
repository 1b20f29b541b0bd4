/// Connections a listener's allow list refused (icap.allow, clamd.allow; config/networks.ts): each
/// is counted (metrics.connectionsDenied, SNMP swConnectionsDenied) and logged, at most one line per
/// listener every 10 s with the number refused since the last line, so a scan of the port from the
/// internet cannot flood the log.
import type { Metrics } from './metrics.js'
import type { Logger } from './log.js'

const logEveryMs = 10_000

/// `listener`: the name in the log line (icap, icaps, clamd).
export function denialCounter (listener: string, metrics: Metrics, log: Logger, now: () => number = Date.now): (remote: string) => void {
  let lastLineAt = Number.NEGATIVE_INFINITY
  let unlogged = 0
  return remote => {
    metrics.connectionsDenied++
    unlogged++
    const at = now()
    if (at - lastLineAt < logEveryMs) return
    log.warn({ listener, client: remote, denied: unlogged }, 'connection refused: client not in the allow list')
    lastLineAt = at
    unlogged = 0
  }
}
