/// Reads the failover window out of the prober's attempts (prober.ts): how long after a node was
/// killed fresh connections to the virtual address still failed. Attempts start every few ms and each
/// gives up after its own short deadline, so the last failed start bounds the outage from below by
/// at most one probe interval, and no SYN retransmit inflates it.
import type { Probe } from './prober.js'

export interface FailoverWindow {
  /// Start of the last failed attempt minus the kill time (0: nothing failed).
  readonly windowMs: number
  /// Attempts started at or after the kill, and how many of them failed.
  readonly total: number
  readonly failed: number
  /// Longest run of consecutive failed attempts (in start order).
  readonly longestRun: number
  /// Failed attempts per owner of their bucket before the kill (node name, or '?' unknown).
  readonly failedBy: ReadonlyMap<string, number>
  /// The first attempt on the dead node's buckets that succeeded after the last failure, ms after the kill.
  readonly firstOkAfterMs: number | undefined
}

export function failoverWindow (probes: readonly Probe[], killedAt: number, ownerOf: (lport: number) => string | undefined, victim: string): FailoverWindow {
  const after = probes.filter(p => p.s >= killedAt).sort((a, b) => a.s - b.s)
  const failed = after.filter(p => !p.ok)
  const windowMs = failed.length === 0 ? 0 : Math.max(...failed.map(p => p.s)) - killedAt
  let run = 0
  let longestRun = 0
  for (const p of after) {
    run = p.ok ? 0 : run + 1
    longestRun = Math.max(longestRun, run)
  }
  const failedBy = new Map<string, number>()
  for (const p of failed) {
    const owner = ownerOf(p.lport) ?? '?'
    failedBy.set(owner, (failedBy.get(owner) ?? 0) + 1)
  }
  const firstOk = after.find(p => p.ok && p.s > killedAt + windowMs && ownerOf(p.lport) === victim)
  return { windowMs, total: after.length, failed: failed.length, longestRun, failedBy, firstOkAfterMs: firstOk === undefined ? undefined : firstOk.s - killedAt }
}

export function describeWindow (w: FailoverWindow): string {
  const by = [...w.failedBy].map(([owner, n]) => `${n} on ${owner}'s buckets`).join(', ')
  return `failover window ${w.windowMs} ms (start of the last failed probe after the kill); ` +
    `${w.failed} of ${w.total} probes failed${by === '' ? '' : ` (${by})`}, longest run ${w.longestRun}; ` +
    `first success on the dead node's buckets after it: ${w.firstOkAfterMs === undefined ? 'none' : `+${w.firstOkAfterMs} ms`}`
}

export interface DrainWindow {
  /// Longest run of consecutive failed probes (in start order): start of its last minus start of its
  /// first, plus one probe interval (each failed probe stands for one interval without a SYN-ACK).
  readonly windowMs: number
  /// The same run bracketed by the successes around it: start of the next success minus start of
  /// the last success before it (an upper bound, up to two intervals wider).
  readonly bracketMs: number
  readonly total: number
  readonly failed: number
  /// Failures other than an unanswered SYN (a reset: two owners, or an owner without a listener).
  readonly errors: readonly string[]
}

/// The hand-over window of a drain, from a prober that hit only the moving buckets every `everyMs`.
export function drainWindow (probes: readonly Probe[], everyMs: number): DrainWindow {
  const sorted = [...probes].sort((a, b) => a.s - b.s)
  let best = { first: -1, last: -1 }
  let first = -1
  sorted.forEach((p, i) => {
    if (p.ok) { first = -1; return }
    if (first < 0) first = i
    const span = p.s - (sorted[first]?.s ?? p.s)
    if (best.first < 0 || span > (sorted[best.last]?.s ?? 0) - (sorted[best.first]?.s ?? 0)) best = { first, last: i }
  })
  const failed = sorted.filter(p => !p.ok)
  const errors = failed.filter(p => p.err !== 'connect-timeout').map(p => `${p.lport}: ${p.err ?? 'failed'}`)
  if (best.first < 0) return { windowMs: 0, bracketMs: 0, total: sorted.length, failed: 0, errors }
  const start = sorted[best.first]?.s ?? 0
  const end = sorted[best.last]?.s ?? 0
  const before = sorted[best.first - 1]?.s ?? start - everyMs
  const after = sorted[best.last + 1]?.s ?? end + everyMs
  return { windowMs: end - start + everyMs, bracketMs: after - before, total: sorted.length, failed: failed.length, errors }
}
