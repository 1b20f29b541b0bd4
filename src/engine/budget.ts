/// ScanBudget: the limits of one scan (ClamAV's MaxScanSize / MaxFileSize / MaxRecursion / MaxFiles /
/// MaxScanTime). Exceeding one is a Finding (Heuristics.Limits.Exceeded.<Which>), never an exception;
/// policy decides whether it blocks. Extractors call consume() inside their inflate loops.

export interface ScanLimits {
  readonly maxScanBytes: number
  readonly maxFileBytes: number
  readonly maxDepth: number
  readonly maxFiles: number
  readonly maxScanMs: number
}

export const defaultLimits: ScanLimits = {
  maxScanBytes: 400 * 1024 * 1024,
  maxFileBytes: 100 * 1024 * 1024,
  maxDepth: 17,
  maxFiles: 10_000,
  maxScanMs: 120_000,
}

export type LimitName = 'MaxScanSize' | 'MaxFileSize' | 'MaxRecursion' | 'MaxFiles' | 'MaxScanTime'

export class ScanBudget {
  readonly limits: ScanLimits
  readonly signal: AbortSignal
  readonly #deadline: number
  bytes = 0
  files = 0
  maxDepthSeen = 0
  exceeded: LimitName | undefined

  constructor (limits: ScanLimits, signal: AbortSignal) {
    this.limits = limits
    this.signal = signal
    this.#deadline = Date.now() + limits.maxScanMs
  }

  /// Checks the time and abort signal; true while the scan may go on.
  alive (): boolean {
    if (this.signal.aborted) return false
    if (Date.now() > this.#deadline) { this.exceeded ??= 'MaxScanTime'; return false }
    return this.exceeded === undefined
  }

  /// Admits one more object at this depth, or records which limit it breaks.
  enter (depth: number): boolean {
    if (depth > this.limits.maxDepth) { this.exceeded ??= 'MaxRecursion'; return false }
    if (++this.files > this.limits.maxFiles) { this.exceeded ??= 'MaxFiles'; return false }
    this.maxDepthSeen = Math.max(this.maxDepthSeen, depth)
    return this.alive()
  }

  /// Accounts bytes an extractor produced for one child; false (and a recorded limit) when either the
  /// child or the whole scan would pass its limit. Call before keeping the bytes.
  consume (n: number, childSoFar: number): boolean {
    if (childSoFar + n > this.limits.maxFileBytes) { this.exceeded ??= 'MaxFileSize'; return false }
    if (this.bytes + n > this.limits.maxScanBytes) { this.exceeded ??= 'MaxScanSize'; return false }
    this.bytes += n
    return this.alive()
  }
}
