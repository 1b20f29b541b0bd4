/// Policy: a pure function from a Verdict and the service's profile to a Decision. No I/O; the
/// protocol adapters render the Decision (ICAP block page, clamd FOUND line).
import type { Verdict } from '../engine/verdict.js'
import type { ErrorCode } from '../errors.js'
import { oversizeFinding } from '../scan/input.js'

export interface Profile {
  /// Heuristics.Limits.Exceeded.* verdicts: block (ClamAV's AlertExceedsMax) or let through.
  readonly blockLimits: boolean
  /// Objects over scan.maxObjectBytes, which are never scanned (scan.oversize): block or let through.
  readonly blockOversize: boolean
  readonly blockEncrypted: boolean
  /// Heuristics.Broken.* verdicts (a container or encoding damaged past what could be read): block
  /// (ClamAV's AlertBrokenMedia / AlertBroken) or let through; the scan service logs them either way.
  readonly blockBroken: boolean
  /// When no verdict could be had (queue full, worker crash, timeout): closed blocks, open allows.
  readonly failMode: 'closed' | 'open'
  /// Trickle mode for large downloads (ICAP RESPMOD; leaks a prefix): stream the body while it is
  /// scanned, hold back the last `holdBackBytes` until the verdict, cut the transfer on a block.
  /// Undefined: off (the whole body is scanned before anything is sent).
  readonly trickle?: TrickleSettings
}

export interface TrickleSettings {
  readonly holdBackBytes: number
  /// How long a URL cut in trickle mode is refused at once (a browser's retry), and how many such
  /// URLs are remembered at most (oldest out first).
  readonly retryBlockMs: number
  readonly retryBlockEntries: number
}

/// Broken containers pass by default, as in ClamAV: truncated downloads and sloppy archivers are common,
/// and what could be read was scanned.
export const defaultProfile: Profile = { blockLimits: true, blockOversize: true, blockEncrypted: true, blockBroken: false, failMode: 'closed' }

export type Decision =
  | { readonly action: 'allow', readonly reason: string }
  | { readonly action: 'block', readonly reason: string, readonly threat: string }
  /// No decision about the content: the protocol answers the code's status (src/errors.ts).
  | { readonly action: 'fail', readonly reason: string, readonly code: ErrorCode }

export function decide (verdict: Verdict, profile: Profile): Decision {
  const threat = verdict.findings[0]?.name
  switch (verdict.status) {
    case 'clean':
      return { action: 'allow', reason: 'clean' }
    case 'infected':
      return { action: 'block', reason: 'infected', threat: threat ?? 'Unknown' }
    case 'limit': {
      const block = verdict.findings.some(f => f.name === oversizeFinding.name) ? profile.blockOversize : profile.blockLimits
      return block ? { action: 'block', reason: 'limit', threat: threat ?? 'Heuristics.Limits.Exceeded' } : { action: 'allow', reason: 'limit' }
    }
    case 'encrypted':
      return profile.blockEncrypted ? { action: 'block', reason: 'encrypted', threat: threat ?? 'Heuristics.Encrypted' } : { action: 'allow', reason: 'encrypted' }
    case 'broken':
      return profile.blockBroken ? { action: 'block', reason: 'broken', threat: threat ?? 'Heuristics.Broken' } : { action: 'allow', reason: 'broken' }
    case 'error':
    case 'timeout':
      if (profile.failMode === 'open') return { action: 'allow', reason: `fail-open: ${verdict.error?.code ?? verdict.status}` }
      return verdict.error?.code === 'SCAN_QUEUE_FULL'
        ? { action: 'fail', reason: 'overload', code: 'SCAN_QUEUE_FULL' }
        : { action: 'block', reason: `fail-closed: ${verdict.error?.code ?? verdict.status}`, threat: verdict.status === 'timeout' ? 'Heuristics.Limits.Exceeded.MaxScanTime' : 'Scanwall.ScanError' }
    case 'aborted':
      return { action: 'fail', reason: 'aborted', code: 'SCAN_ABORTED' }
  }
}
