/// The data that crosses the worker boundary: what was scanned and what was found.
/// Pure data (structured-clone safe); shared by workers, the scan service, policy and protocols.
import type { ErrorCode } from '../errors.js'

/// One thing the engine found. `path` names the container chain, outermost first
/// (['mail.eml', 'a.zip', 'x.exe']); the object itself is [] .
export interface Finding {
  readonly name: string
  readonly kind: 'signature' | 'heuristic' | 'limit' | 'encrypted' | 'broken'
  readonly path: readonly string[]
  /// For `broken`: what went wrong (the decoder's or handler's error text). The worker has no
  /// logger, so the text travels here and the scan service logs it once per scan.
  readonly detail?: string
}

export interface ScanStats {
  readonly bytes: number
  readonly objects: number
  readonly depth: number
  readonly ms: number
}

/// Which status a scan gets, strongest first (Engine.scan applies it):
///   infected   a signature, or a heuristic that blocks like one (overlapping zip entries)
///   timeout    the scan ran out of time (MaxScanTime)
///   limit      another limit was exceeded (Heuristics.Limits.Exceeded.*)
///   encrypted  a member could not be read without a password
///   broken     nothing above, but a container or encoding was damaged past what its handler
///              reads (Heuristics.Broken.<Format>): what came before the damage was scanned and
///              is clean, what came after was not seen.
///   clean      everything was read and nothing was found
/// `broken` is a status of its own rather than `clean` with findings so that every caller has to
/// decide about it (policy's switch does not compile without a case for it): a damaged container is
/// what an attacker sends to hide a payload from a scanner that gives up, so it must never pass as
/// an ordinary clean by accident. Broken findings are carried under every status, after the
/// finding that decided it, so the log says what could not be read even when something was found.
/// error / aborted are not from the content: the engine failed (a bug, reported with its code) or
/// the client went away.
export type VerdictStatus = 'clean' | 'infected' | 'limit' | 'encrypted' | 'broken' | 'error' | 'timeout' | 'aborted'

export interface Verdict {
  readonly status: VerdictStatus
  readonly findings: readonly Finding[]
  readonly stats: ScanStats
  /// For error/timeout/aborted: the error code from src/errors.ts and why.
  readonly error?: { readonly code: ErrorCode, readonly message: string }
}
