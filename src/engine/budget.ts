/// ScanBudget: the limits of one scan (ClamAV's MaxScanSize / MaxFileSize / MaxRecursion / MaxFiles /
/// MaxScanTime, plus a compression-ratio limit). Exceeding one is a Finding
/// (Heuristics.Limits.Exceeded.<Which>), never an exception; policy decides whether it blocks.
/// Extractors call consume() inside their inflate loops, before keeping the bytes, and alive() between
/// chunks: the budget also carries the transaction's abort flag, so a cancelled scan stops cooperatively
/// within one chunk and the worker thread survives.
import { tmpdir } from 'node:os'

export interface ScanLimits {
  readonly maxScanBytes: number
  readonly maxFileBytes: number
  readonly maxDepth: number
  readonly maxFiles: number
  readonly maxScanMs: number
  /// Output/input ratio past which a child is a bomb; checked once a child passes ratioFloorBytes.
  readonly maxRatio: number
  readonly ratioFloorBytes: number
  /// Children larger than this are spooled to a temp file under spoolDir instead of held in memory.
  readonly spoolAboveBytes: number
  readonly spoolDir: string
}

/// Largest object the I/O thread may match itself (Engine.scanLeaf in src/engine/engine.ts). The ceiling keeps the cost per
/// object small and bounded: matching is linear in the bytes (one anchor scan, candidates verified over
/// at most the longest part), ~0.4 ms for 64 KiB of random bytes with the peer-scale DB. 64 KiB, not
/// 32: on the shared 2-vCPU machine a 64 KiB body's hand-off to a worker cost ~2.5 ms of CPU per
/// request (wake-ups of the parked worker and of this thread, inflated under load) against ~0.5-0.9 ms
/// matched here (bench-icap RESPMOD 64 KiB c=8, load 15: 90-100 → 630-1250 req/s).
export const leafMaxBytes = 64 * 1024

export const defaultLimits: ScanLimits = {
  maxScanBytes: 400 * 1024 * 1024,
  maxFileBytes: 100 * 1024 * 1024,
  maxDepth: 17,
  maxFiles: 10_000,
  maxScanMs: 120_000,
  maxRatio: 250,
  ratioFloorBytes: 16 * 1024 * 1024,
  spoolAboveBytes: 8 * 1024 * 1024,
  spoolDir: tmpdir(),
}

export type LimitName = 'MaxScanSize' | 'MaxFileSize' | 'MaxRecursion' | 'MaxFiles' | 'MaxScanTime' | 'MaxCompressionRatio'

/// A heuristic, encryption or broken-container finding raised by a handler; the budget attaches the
/// container path the walk set. `detail` says what was wrong (broken: the error text).
export interface Report {
  readonly name: string
  readonly kind: 'heuristic' | 'encrypted' | 'broken'
  readonly path: readonly string[]
  readonly detail?: string
}

/// Most reports one scan keeps: a hostile archive of a million broken members must not grow the
/// verdict (or the log line) without bound. The first ones say what matters.
const maxReports = 32

export class ScanBudget {
  readonly limits: ScanLimits
  readonly signal: AbortSignal
  readonly #deadline: number
  bytes = 0
  files = 0
  maxDepthSeen = 0
  exceeded: LimitName | undefined
  /// Where the limit was hit (container path), for the finding.
  exceededAt: readonly string[] = []
  /// The path of the layer whose handler runs now; set by the walk before each step of a handler.
  path: readonly string[] = []
  readonly reports: Report[] = []

  constructor (limits: ScanLimits, signal: AbortSignal) {
    this.limits = limits
    this.signal = signal
    this.#deadline = Date.now() + limits.maxScanMs
  }

  #stopped = false

  /// Records a limit. As in ClamAV, the per-object limits (MaxRecursion, MaxFileSize) skip that
  /// object and the scan goes on; the scan-wide ones (MaxScanSize, MaxFiles, MaxScanTime, and the
  /// compression ratio, whose only purpose is bombs) stop the whole scan.
  #hit (which: LimitName, stop: boolean): false {
    if (this.exceeded === undefined) {
      this.exceeded = which
      this.exceededAt = this.path
    }
    if (stop) this.#stopped = true
    return false
  }

  /// Checks the time and abort signal; true while the scan may go on.
  alive (): boolean {
    if (this.signal.aborted) return false
    if (Date.now() > this.#deadline) return this.#hit('MaxScanTime', true)
    return !this.#stopped
  }

  /// Admits one more object at this depth, or records which limit it breaks.
  enter (depth: number): boolean {
    if (depth > this.limits.maxDepth) return this.#hit('MaxRecursion', false)
    if (++this.files > this.limits.maxFiles) return this.#hit('MaxFiles', true)
    this.maxDepthSeen = Math.max(this.maxDepthSeen, depth)
    return this.alive()
  }

  /// Can a child of this declared size be taken at all? Checked before allocating for it.
  admits (declared: number): boolean {
    if (declared > this.limits.maxFileBytes) return this.#hit('MaxFileSize', false)
    if (this.bytes + declared > this.limits.maxScanBytes) return this.#hit('MaxScanSize', true)
    return true
  }

  /// Accounts bytes an extractor produced for one child; false (and a recorded limit) when the child,
  /// the whole scan or the child's compression ratio (against `packed` input bytes, when known) would
  /// pass its limit. Call before keeping the bytes.
  consume (n: number, childSoFar: number, packed?: number): boolean {
    const total = childSoFar + n
    if (total > this.limits.maxFileBytes) return this.#hit('MaxFileSize', false)
    if (this.bytes + n > this.limits.maxScanBytes) return this.#hit('MaxScanSize', true)
    // A ratio bomb is hostile by construction (42.zip nests thousands of them): stop the whole scan.
    if (packed !== undefined && total > this.limits.ratioFloorBytes && total > packed * this.limits.maxRatio) return this.#hit('MaxCompressionRatio', true)
    this.bytes += n
    return this.alive()
  }

  /// Records a heuristic (overlapping zip entries), an encrypted member or a broken container, once
  /// per name and container.
  report (name: string, kind: Report['kind'], detail?: string): void {
    const path = this.path
    if (this.reports.length >= maxReports) return
    if (this.reports.some(r => r.name === name && samePath(r.path, path))) return
    this.reports.push(detail === undefined ? { name, kind, path } : { name, kind, path, detail })
  }
}

function samePath (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i])
}
