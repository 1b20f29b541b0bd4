/// The engine: one recursive walk over an object's layers (ClamAV's cli_magic_scan analogue).
/// Each layer is matched (hashes + body signatures) while it streams, then its type is detected from
/// content and a format handler yields its children, which re-enter the same walk under the budget.
import type { ByteSource } from './source.js'
import { ScanBudget, leafMaxBytes, type ScanLimits } from './budget.js'
import { detect, detectType } from './filetype.js'
import { handlerFor, hasHandler, type Layer } from './formats/registry.js'
import { Matcher, type MatcherOptions } from './matcher/matcher.js'
import type { CompiledDb } from './matcher/db.js'
import type { Finding, Verdict } from './verdict.js'

interface WalkState {
  readonly budget: ScanBudget
  readonly findings: Finding[]
  bytes: number
  objects: number
}

export class Engine {
  readonly version: string
  readonly #matcher: Matcher

  constructor (db: CompiledDb, options: MatcherOptions = {}) {
    this.version = db.version
    this.#matcher = new Matcher(db, options)
  }

  async scan (source: ByteSource, name: string, limits: ScanLimits, signal: AbortSignal): Promise<Verdict> {
    const started = performance.now()
    const state: WalkState = { budget: new ScanBudget(limits, signal), findings: [], bytes: 0, objects: 0 }
    await this.#walk(source, [name], 0, state)
    const stats = { bytes: state.bytes, objects: state.objects, depth: state.budget.maxDepthSeen, ms: performance.now() - started }
    if (signal.aborted) return { status: 'aborted', findings: state.findings, stats, error: { code: 'SCAN_ABORTED', message: String(signal.reason ?? 'aborted') } }
    if (state.findings.length > 0) return { status: 'infected', findings: state.findings, stats }
    const budget = state.budget
    const exceeded = budget.exceeded
    const limit = exceeded === undefined ? [] : [{ name: `Heuristics.Limits.Exceeded.${exceeded}`, kind: 'limit' as const, path: budget.exceededAt.length > 0 ? budget.exceededAt : [name] }]
    const heuristics = budget.reports.filter(r => r.kind === 'heuristic')
    const encrypted = budget.reports.filter(r => r.kind === 'encrypted')
    // Heuristic findings (zip overlap bombs) block like signatures; then limits; then encryption.
    if (heuristics.length > 0) return { status: 'infected', findings: [...heuristics, ...limit], stats }
    if (exceeded === 'MaxScanTime') return { status: 'timeout', findings: limit, stats }
    if (exceeded !== undefined) return { status: 'limit', findings: [...limit, ...encrypted], stats }
    if (encrypted.length > 0) return { status: 'encrypted', findings: encrypted, stats }
    return { status: 'clean', findings: [], stats }
  }

  /// A small leaf object matched at once on the calling thread, or undefined when it needs scan():
  /// larger than leafMaxBytes, or of a type with a format handler.
  /// Why (ScanService calls this on the I/O thread): handing a 4 KiB body to a pool worker costs two
  /// cross-thread wake-ups (a futex to wake the parked worker, an eventfd to wake the I/O thread with
  /// the answer); on this 2-vCPU VM that measured ~95 µs of worker CPU plus ~75 µs on the I/O thread
  /// per object (BENCHMARKS.md, notes), while matching 4 KiB takes ~10 µs. Only objects whose cost is
  /// bounded by their size qualify: nothing to unpack means no recursion, no decompression, and no
  /// limit to enforce beyond the top object, which every limit admits. The verdict is the one scan()
  /// gives for the same bytes (test/unit/scan-inline.test.ts compares them).
  scanLeaf (bytes: Uint8Array, name: string): Verdict | undefined {
    if (bytes.length > leafMaxBytes) return undefined
    const started = performance.now()
    const type = detect(bytes.subarray(0, 4096))
    if (hasHandler(type)) return undefined
    const match = this.#matcher.begin(type, bytes.length)
    match.push(bytes)
    const findings = match.end().map(found => ({ name: found, kind: 'signature' as const, path: [name] }))
    const stats = { bytes: bytes.length, objects: 1, depth: 0, ms: performance.now() - started }
    return findings.length === 0 ? { status: 'clean', findings, stats } : { status: 'infected', findings, stats }
  }

  async #walk (source: ByteSource, path: string[], depth: number, state: WalkState): Promise<void> {
    if (!state.budget.enter(depth)) return
    state.objects++
    state.bytes += source.size
    // Type first: body signatures are restricted to target types (ClamAV's target field).
    const type = await detectType(source)
    const match = this.#matcher.begin(type, source.size)
    // The stream copies what it carries over a chunk boundary, so the source may reuse its buffer.
    for await (const chunk of source.chunks(undefined, { reuse: true })) {
      if (!state.budget.alive()) return
      match.push(chunk)
    }
    for (const name of match.end()) state.findings.push({ name, kind: 'signature', path })
    if (match.allowListed) return // .fp/.sfp: this layer and what it contains are known clean
    if (state.findings.length > 0) return // first detection decides, as clamd without --allmatch
    const handler = await handlerFor(type)
    if (handler === undefined) return
    await this.#children(handler.extract(source, state.budget), path, depth, state)
  }

  /// Drives a handler's iterator one child at a time: the budget knows the current container path
  /// while the handler runs (for its reports), each child is walked before the next is decoded, and a
  /// spooled child's temp file is released as soon as it is scanned.
  async #children (layers: AsyncIterable<Layer>, path: string[], depth: number, state: WalkState): Promise<void> {
    const it = layers[Symbol.asyncIterator]()
    try {
      for (;;) {
        state.budget.path = path
        let step: IteratorResult<Layer>
        try {
          step = await it.next()
        } catch {
          // A handler bug or a container broken past what it tolerates: keep what was scanned.
          state.budget.report('Heuristics.Broken.Container', 'broken')
          return
        }
        if (step.done === true) return
        const child = step.value
        try {
          await this.#walk(child.source, [...path, child.name], depth + 1, state)
        } finally {
          child.release?.()
        }
        if (state.findings.length > 0 || !state.budget.alive()) return
      }
    } finally {
      await it.return?.()
    }
  }
}
