/// The engine: one recursive walk over an object's layers (ClamAV's cli_magic_scan analogue).
/// Each layer is matched (hashes + body signatures) while it streams, then its type is detected from
/// content and a format handler yields its children, which re-enter the same walk under the budget.
/// A handler that fails is a finding (Heuristics.Broken.<Format>), never silence; a fault of the
/// engine itself is an `error` verdict, never a rejected promise.
import type { ByteSource } from './source.js'
import { ScanBudget, leafMaxBytes, type ScanLimits } from './budget.js'
import { detect, detectType, hasIsoMagic, type FileType } from './filetype.js'
import { brokenName, handlerFor, hasHandler, type HandlerEnv, type Layer } from './formats/registry.js'
import { SevenZipBackend } from './formats/sevenzip.js'
import { SliceSource } from './formats/slice.js'
import { EmbeddedProbe, embeddedMagicFound, hasEmbeddedMagic, plausibleStart, probeBytes, zipStartsFromEnd } from './embedded.js'
import { Matcher, type MatcherOptions } from './matcher/matcher.js'
import type { CompiledDb } from './matcher/db.js'
import { verdictOf } from './outcome.js'
import type { Finding, Verdict } from './verdict.js'
import { FactsCollector, ZipFacts } from './facts/collector.js'
import { scanSmallMail } from './mail-leaf.js'

interface WalkState {
  readonly budget: ScanBudget
  readonly findings: Finding[]
  readonly facts: FactsCollector
  bytes: number
  objects: number
}

const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)

export class Engine {
  readonly version: string
  readonly #matcher: Matcher
  /// Decoders with state of their own (7-Zip's wasm instance), this engine's alone.
  readonly #env: HandlerEnv = { sevenZip: new SevenZipBackend() }

  constructor (db: CompiledDb, options: MatcherOptions = {}) {
    this.version = db.version
    this.#matcher = new Matcher(db, options)
  }

  /// Never rejects: a fault outside a format handler (a bug in the walk or the matcher) is an
  /// `error` verdict with code SCAN_ENGINE_FAILED, carrying what was found before it.
  async scan (source: ByteSource, name: string, limits: ScanLimits, signal: AbortSignal): Promise<Verdict> {
    const started = performance.now()
    const state: WalkState = { budget: new ScanBudget(limits, signal), findings: [], facts: new FactsCollector(), bytes: 0, objects: 0 }
    const stats = (): Verdict['stats'] => ({ bytes: state.bytes, objects: state.objects, depth: state.budget.maxDepthSeen, ms: performance.now() - started })
    try {
      await this.#walk(source, [name], 0, state, [])
    } catch (err) {
      return { status: 'error', findings: state.findings, stats: stats(), error: { code: 'SCAN_ENGINE_FAILED', message: errorText(err) } }
    }
    if (signal.aborted) return { status: 'aborted', findings: state.findings, stats: stats(), error: { code: 'SCAN_ABORTED', message: String(signal.reason ?? 'aborted') } }
    const verdict = verdictOf(state.findings, state.budget, name, stats())
    return { ...verdict, facts: state.facts.result(state.budget.reports.some(r => r.kind === 'encrypted')) }
  }

  /// A small leaf object matched at once on the calling thread, or undefined when it needs scan():
  /// larger than leafMaxBytes, of a type with a format handler (an ISO 9660 image, whose signature lies
  /// past the head, included), or holding an embedded archive.
  /// Why (ScanService calls this on the I/O thread): handing a 4 KiB body to a pool worker costs two
  /// cross-thread wake-ups (a futex to wake the parked worker, an eventfd to wake the I/O thread with
  /// the answer); on this 2-vCPU VM that measured ~95 µs of worker CPU plus ~75 µs on the I/O thread
  /// per object (BENCHMARKS.md, notes), while matching 4 KiB takes ~10 µs. Only objects whose cost is
  /// bounded by their size qualify: nothing to unpack means no recursion, no decompression, and no
  /// limit to enforce beyond the top object, which every limit admits. The verdict is the one scan()
  /// gives for the same bytes (test/unit/scan-inline.test.ts compares them).
  /// With `limits`, a small mail whose parts are all text leaves is matched here too, part by part
  /// under those limits (mail-leaf.ts; test/unit/scan-inline-mail.test.ts compares the verdicts).
  scanLeaf (bytes: Uint8Array, name: string, limits?: ScanLimits): Verdict | undefined {
    if (bytes.length > leafMaxBytes) return undefined
    const started = performance.now()
    const type = detect(bytes.subarray(0, 4096))
    if (type === 'mail') return limits === undefined ? undefined : scanSmallMail(this.#matcher, bytes, name, limits)
    if (hasHandler(type) || ((type === 'unknown' || type === 'text') && hasIsoMagic(bytes))) return undefined
    // The archive magics come with the match (matcher/embedded-rules.ts) where the DB has their rules;
    // a body holding one is matched again by scan(), a rare case.
    const magicsInMatch = this.#matcher.findsEmbedded(type)
    if (!magicsInMatch && hasEmbeddedMagic(bytes)) return undefined
    const match = this.#matcher.matchAll(bytes, type, [], { embedded: magicsInMatch })
    if (magicsInMatch && embeddedMagicFound(match.embedded, bytes)) return undefined
    const findings = match.names.map(found => ({ name: found, kind: 'signature' as const, path: [name] }))
    const stats = { bytes: bytes.length, objects: 1, depth: 0, ms: performance.now() - started }
    // The walk's facts for a leaf: its type, and whether a text starts with #! (FactsCollector.layer).
    const facts = { types: [type], encrypted: false, code: [], macros: false, script: type === 'text' && bytes[0] === 0x23 && bytes[1] === 0x21 }
    return findings.length === 0 ? { status: 'clean', findings, stats, facts } : { status: 'infected', findings, stats, facts }
  }

  /// `ancestry`: the containers' types, outermost first (for Container/Intermediates conditions).
  async #walk (source: ByteSource, path: string[], depth: number, state: WalkState, ancestry: readonly FileType[]): Promise<void> {
    if (!state.budget.enter(depth)) return
    state.objects++
    state.bytes += source.size
    // Type first: body signatures are restricted to target types (ClamAV's target field).
    const type = await detectType(source)
    await state.facts.layer(source, type, path, ancestry)
    // An HTML page's head decides whether ClamAV would match its raw bytes (matcher/html-pass.ts).
    const match = this.#matcher.begin(type, source.size, ancestry, type === 'html' ? await source.head(1024) : undefined)
    // Objects with no handler of their own may still hide an archive past their start.
    const probe = hasHandler(type) ? undefined : new EmbeddedProbe(source.size)
    // The stream copies what it carries over a chunk boundary, so the source may reuse its buffer.
    for await (const chunk of source.chunks(undefined, { reuse: true })) {
      if (!state.budget.alive()) return
      // The probe first: it reads only the first and last 64 KiB, which the matcher then finds in the
      // cache; after the matcher's pass over a 1 MiB chunk (and the Bloom bitmaps) the head is cold.
      probe?.push(chunk)
      match.push(chunk)
    }
    const names = match.end()
    // Ext rules read the layer once more, only when the stream asks for it (the normalised-text pass
    // of a text layer runs inside the stream: matcher/normalised.ts).
    if (names.length === 0 && match.needsBytes) names.push(...match.ext(await source.read(0, source.size)))
    for (const name of names) state.findings.push({ name, kind: 'signature', path })
    if (match.allowListed) return // .fp/.sfp: this layer and what it contains are known clean
    if (state.findings.length > 0) return // first detection decides, as clamd without --allmatch
    const inner = [...ancestry, type]
    if (probe !== undefined) { await this.#embedded(source, probe, path, depth, state, inner); return }
    const handler = await handlerFor(type)
    if (handler === undefined) return
    await this.#children(handler.extract(source, state.budget, this.#env), type, path, depth, state, inner)
  }

  /// Walks the first plausible embedded archive as a child named after its offset. A magic found by
  /// chance in a large binary is no damaged container: broken reports from inside are dropped.
  async #embedded (source: ByteSource, probe: EmbeddedProbe, path: string[], depth: number, state: WalkState, ancestry: readonly FileType[]): Promise<void> {
    const starts = [...probe.found]
    for (const end of probe.ends) {
      for (const at of await zipStartsFromEnd(async (offset, length) => await source.read(offset, length), end)) if (!starts.includes(at)) starts.push(at)
    }
    for (const at of starts) {
      if (!plausibleStart(await source.read(at, probeBytes))) continue
      const reports = state.budget.reports
      const before = reports.length
      await this.#walk(new SliceSource(source, at, source.size - at), [...path, `embedded@${at}`], depth + 1, state, ancestry)
      const kept = reports.splice(before).filter(r => r.kind !== 'broken')
      reports.push(...kept)
      return
    }
  }

  /// Drives a handler's iterator one child at a time: the budget knows the current container path
  /// while the handler runs (for its reports), each child is walked before the next is decoded, and a
  /// spooled child's temp file is released as soon as it is scanned.
  async #children (layers: AsyncIterable<Layer>, type: FileType, path: string[], depth: number, state: WalkState, ancestry: readonly FileType[]): Promise<void> {
    const it = layers[Symbol.asyncIterator]()
    const zip = type === 'zip' ? new ZipFacts() : undefined
    try {
      for (;;) {
        state.budget.path = path
        let step: IteratorResult<Layer>
        try {
          step = await it.next()
        } catch (err) {
          // A handler bug or a container broken past what it tolerates: a finding (with what the
          // handler threw), and the children scanned before it still count.
          state.budget.path = path
          state.budget.report(brokenName(type), 'broken', errorText(err))
          return
        }
        if (step.done === true) return
        const child = step.value
        state.facts.child(child.name)
        await zip?.child(child.name, child.source)
        try {
          await this.#walk(child.source, [...path, child.name], depth + 1, state, ancestry)
        } finally {
          child.release?.()
        }
        if (state.findings.length > 0 || !state.budget.alive()) return
      }
    } finally {
      if (zip !== undefined) state.facts.zipDone(zip, path)
      try {
        await it.return?.()
      } catch (err) {
        state.budget.path = path
        state.budget.report(brokenName(type), 'broken', errorText(err))
      }
    }
  }
}
