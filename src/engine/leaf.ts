/// Small leaf objects matched on the calling thread instead of a pool worker.
/// Why: handing a 4 KiB body to a worker costs two cross-thread wake-ups (a futex to wake the parked
/// worker, an eventfd to wake the I/O thread with the answer); on this 2-vCPU VM that measured ~95 µs
/// of worker CPU plus ~75 µs on the I/O thread per object (BENCHMARKS.md, notes), while matching
/// 4 KiB takes ~10 µs.
/// Only objects whose cost is bounded by their size qualify: at most leafMaxBytes, and of a type with
/// no format handler (nothing to unpack: no recursion, no decompression, no limits to enforce beyond
/// the top object, which every limit admits). Everything else returns undefined and goes to the pool.
import { leafMaxBytes } from './budget.js'
import { detect } from './filetype.js'
import { hasHandler } from './formats/registry.js'
import { Matcher, type MatcherOptions } from './matcher/matcher.js'
import type { CompiledDb } from './matcher/db.js'
import type { Verdict } from '../scan/verdict.js'

export class LeafScanner {
  readonly version: string
  readonly #matcher: Matcher

  /// options.kernelMemory: the pool's shared kernel memory, so this thread maps the same Bloom bitmaps.
  constructor (db: CompiledDb, options: MatcherOptions = {}) {
    this.version = db.version
    this.#matcher = new Matcher(db, options)
  }

  /// The verdict, or undefined when the object needs the pool (too large, or a container).
  scan (bytes: Uint8Array, name: string): Verdict | undefined {
    if (bytes.length > leafMaxBytes) return undefined
    const started = performance.now()
    const type = detect(bytes.subarray(0, 4096))
    if (hasHandler(type)) return undefined
    const match = this.#matcher.begin(type, bytes.length)
    match.push(bytes)
    const found = match.end()
    const stats = { bytes: bytes.length, objects: 1, depth: 0, ms: performance.now() - started }
    if (found.length === 0) return { status: 'clean', findings: [], stats }
    return { status: 'infected', findings: found.map(n => ({ name: n, kind: 'signature' as const, path: [name] })), stats }
  }
}
