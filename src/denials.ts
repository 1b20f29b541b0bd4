/// Connections a listener refused because of who the client is: not in its allow list (icap.allow,
/// clamd.allow, milter.allow; config/networks.ts), or an icaps:// client whose certificate was refused. Each is
/// counted (metrics.connectionsDenied, SNMP swConnectionsDenied) and logged, at most one line per
/// listener and kind every 10 s with the number refused since the last line, so a scan of the port
/// from the internet cannot flood the log.
import type { Metrics } from './metrics.js'
import type { Logger } from './log.js'

const logEveryMs = 10_000

export const notAllowed = 'connection refused: client not in the allow list'

/// `listener`: the name in the log line (icap, icaps, clamd, milter); `message`: the line's message.
export function denialCounter (listener: string, metrics: Metrics, log: Logger, message = notAllowed, now: () => number = Date.now): (remote: string, reason?: string) => void {
  let lastLineAt = Number.NEGATIVE_INFINITY
  let unlogged = 0
  return (remote, reason) => {
    metrics.connectionsDenied++
    unlogged++
    const at = now()
    if (at - lastLineAt < logEveryMs) return
    log.warn({ listener, client: remote, denied: unlogged, ...(reason === undefined ? {} : { reason }) }, message)
    lastLineAt = at
    unlogged = 0
  }
}
