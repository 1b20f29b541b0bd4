/// The data that crosses the worker boundary: what was scanned and what was found.
/// Pure data (structured-clone safe); shared by workers, the scan service, policy and protocols.
import type { ErrorCode } from '../errors.js'

/// One thing the engine found. `path` names the container chain, outermost first
/// (['mail.eml', 'a.zip', 'x.exe']); the object itself is [] .
export interface Finding {
  readonly name: string
  readonly kind: 'signature' | 'heuristic' | 'limit' | 'encrypted' | 'broken'
  readonly path: readonly string[]
}

export interface ScanStats {
  readonly bytes: number
  readonly objects: number
  readonly depth: number
  readonly ms: number
}

export type VerdictStatus = 'clean' | 'infected' | 'limit' | 'encrypted' | 'error' | 'timeout' | 'aborted'

export interface Verdict {
  readonly status: VerdictStatus
  readonly findings: readonly Finding[]
  readonly stats: ScanStats
  /// For error/timeout/aborted: the error code from src/errors.ts and why.
  readonly error?: { readonly code: ErrorCode, readonly message: string }
}
