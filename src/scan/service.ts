/// ScanService: the one facade every protocol calls. It opens body sinks, submits bodies to the
/// worker pool (memory bodies moved, spooled ones by path), and maps every outcome, including queue
/// overload, worker crash and time-outs, to a Verdict. Protocols never see the pool or the engine.
import type { Piscina } from 'piscina'
import { BodySink, MemoryBudget, recycleBody, releaseSource, type BodySource } from './body.js'
import { createPool, startPool, type PoolOptions, type StartedPool } from './pool.js'
import type { DbOffer } from './db-handoff.js'
import { DeadlineWatch } from './deadline.js'
import type { ScanTask, ScanTaskResult } from './task.js'
import { BadResult, parseTaskResult } from './result.js'
import type { Verdict } from '../engine/verdict.js'
import { oversizeFinding, type ScanBody, type ScanContext } from './input.js'
import type { CompiledDb } from '../engine/matcher/db.js'
import { signatureCount } from '../engine/matcher/build.js'
import { kernelMemoryFor } from '../engine/matcher/matcher.js'
import type { WasmMemory } from '../engine/matcher/kernel-memory.js'
import { Engine } from '../engine/engine.js'
import { defaultLimits, leafMaxBytes, type ScanLimits } from '../engine/budget.js'
import { loadDb } from '../engine/signatures/cache.js'
import { loadDbInBackground } from '../updates/background.js'
import { ScanwallError, errorMessage, type ErrorCode } from '../errors.js'
import type { Metrics } from '../metrics.js'
import { VerdictCache, type CacheLookup, type VerdictCacheOptions } from './verdict-cache.js'
import { LeafLane } from './leaf-lane.js'
import type { Logger } from '../log.js'

export interface ScanServiceOptions extends PoolOptions {
  readonly memoryLimit: number
  readonly spoolDir: string
  readonly timeoutMs: number
  readonly signaturesDir: string
  /// Unpacking limits (config scan.limits); the engine's defaults (ClamAV's) fill what is absent.
  readonly limits?: Partial<ScanLimits>
  /// Skip malformed signature lines (counted) instead of refusing the DB.
  readonly signaturesLenient?: boolean
  /// Where the compiled-DB cache goes (Scanwall's own directory, never the signature directory).
  readonly signaturesCacheDir?: string
  /// Bytes of compiled DBs kept there (signatures/cache.ts's default when absent).
  readonly signaturesCacheBytes?: number
  /// Memory bodies up to this size whose type has nothing to unpack are matched on the calling
  /// thread (Engine.scanLeaf says why); 0 sends every body to the pool. Capped at leafMaxBytes.
  readonly inlineMaxBytes?: number
  /// Match those bodies on a thread of their own (leaf-lane.ts) while it has fewer than
  /// leafLaneDepth in hand, inline on the calling thread otherwise. Absent: off.
  readonly leafThread?: boolean
  /// The clean-verdict cache (verdict-cache.ts); absent: off.
  readonly cache?: VerdictCacheOptions & {
    /// Services (ScanContext.service) whose objects are always scanned, never answered from the cache.
    readonly disabledServices?: readonly string[]
  }
}

export interface ScanOutcome {
  readonly verdict: Verdict
  /// The body again, when keepBody was asked: for echoing it back unchanged. Release it after use.
  readonly body?: BodySource
}

/// Extra time past the cooperative budget before the worker is presumed stuck and its thread killed.
const hardTimeoutGraceMs = 5_000
/// Bytes all open sinks may hold in memory together (at least one memoryLimit): past it new bodies
/// spool at once, so a thousand open transactions cannot each hold memoryLimit bytes.
const memoryBudgetBytes = 64 * 1024 * 1024

const zeroStats = { bytes: 0, objects: 0, depth: 0, ms: 0 }
const noLookup: CacheLookup = {}

function failed (status: 'error' | 'timeout' | 'aborted', code: ErrorCode, message: string): Verdict {
  return { status, findings: [], stats: zeroStats, error: { code, message } }
}

/// Kernels that map one DB's shared kernel memory: every worker, the leaf lane, and two for replacement
/// workers that start before the pool has freed their predecessors' slots. The leaf scanner on this
/// thread has a private memory (#leafScanner).
const kernelThreads = (options: ScanServiceOptions): number => options.workers + 3

/// Objects the leaf lane may hold at once: one matching and one waiting, so the lane never idles
/// while the I/O thread reads the next body, and a third leaf is matched inline at once rather than
/// wait behind two (1, 3 and unbounded measured no better on 64 KiB bodies, c=8, at load 5; BENCHMARKS.md "icap64-3").
const leafLaneDepth = 2
/// Smaller leaves stay inline. Per-thread CPU at load 4-6 (BENCHMARKS.md "icap64-3"), lane against
/// inline, 8-12 alternating cells: 16 KiB bodies, I/O thread 273 against 280 µs per request and
/// process +27 %; 32 KiB, 466 against 510 and +19 %; 64 KiB, 431-478 against 602-618 and -0..9 %.
const leafLaneMinBytes = 48 * 1024

export class ScanService {
  readonly #options: ScanServiceOptions
  readonly #metrics: Metrics
  readonly #log: Logger
  #pool: Piscina
  #signatures: CompiledDb
  /// Matches small leaf objects without a thread hop; undefined when inlineMaxBytes is 0.
  #leaf: Engine | undefined
  /// The leaf lane (leafThread), or undefined.
  #lane: LeafLane | undefined
  /// The lane's thread, which maps the kernel memory beside the pool's workers (createPool keeps its slot).
  readonly #laneThreads = (): readonly number[] => this.#lane === undefined ? [] : [this.#lane.threadId]
  #inlineScans = 0
  #laneScans = 0
  #inFlight = 0
  #reloading: Promise<unknown> = Promise.resolve()
  /// The directory the loaded DB came from: a plain reload (SIGHUP) reloads it, so after an update
  /// it is the updater's current DB, not the one the node started with.
  #dir: string
  #lastReloadError: string | undefined
  /// Hard per-task deadlines (the cooperative budget plus a grace), one timer for all tasks.
  readonly #deadlines: DeadlineWatch
  readonly #memory: MemoryBudget
  readonly #cache: VerdictCache | undefined
  /// The limits a worker would scan under (workers/scan.ts builds the same), for the inline mail scan.
  readonly #leafLimits: ScanLimits
  /// The channel the first pool's workers got the DB over, closed with that pool.
  #offer: DbOffer | undefined

  /// `started`: the pool, started before the DB was loaded, its workers waiting for its offer (db-handoff.ts).
  private constructor (options: ScanServiceOptions, signatures: CompiledDb, metrics: Metrics, log: Logger, started: StartedPool) {
    this.#options = options
    this.#metrics = metrics
    this.#log = log
    this.#signatures = signatures
    this.#dir = options.signaturesDir
    this.#offer = started.offer
    // The anchor kernel's Bloom bitmaps, once for the workers and the leaf lane (the leaf scanner on
    // this thread holds its own: #leafScanner).
    const kernel = kernelMemoryFor(signatures, kernelThreads(options))
    this.#leafLimits = { ...defaultLimits, spoolDir: options.spoolDir, ...options.limits, maxScanMs: options.timeoutMs }
    this.#lane = this.#leafLane(signatures, kernel)
    started.otherThreads.list = this.#laneThreads
    started.offer.offer({ db: signatures, kernelMemory: kernel })
    this.#pool = started.pool
    this.#leaf = this.#leafScanner(signatures)
    this.#deadlines = new DeadlineWatch(options.timeoutMs + hardTimeoutGraceMs)
    this.#memory = new MemoryBudget(Math.max(memoryBudgetBytes, options.memoryLimit))
    this.#cache = options.cache === undefined ? undefined : new VerdictCache(options.cache)
    this.#cache?.setScope(this.#cacheScope(signatures))
  }

  /// What a cached verdict depends on besides the content: the signatures and the limits.
  #cacheScope (db: CompiledDb): string {
    return `${db.version}|${JSON.stringify(this.#options.limits ?? {})}`
  }

  /// The cache's counters, or undefined when it is off.
  get cacheStats (): { readonly entries: number, readonly bytes: number, readonly hits: number, readonly misses: number, readonly firstSightings: number, readonly stores: number, readonly lookupMs: number } | undefined {
    const c = this.#cache
    return c === undefined ? undefined : { entries: c.entries, bytes: c.bytes, hits: c.hits, misses: c.misses, firstSightings: c.firstSightings, stores: c.stores, lookupMs: c.lookupMs }
  }

  /// Whether the cache may answer this body: on, on for the service, and a body large enough.
  #cacheWants (source: BodySource, service: string): boolean {
    const cache = this.#cache
    return cache !== undefined && cache.wants(source.size) && !(this.#options.cache?.disabledServices?.includes(service) ?? false)
  }

  /// A cache lookup for this body (one #cacheWants said yes to).
  async #lookup (source: BodySource): Promise<CacheLookup> {
    const cache = this.#cache
    if (cache === undefined) return {}
    try {
      return await cache.lookup(source)
    } catch (err) {
      // A spool file that cannot be read back here will fail the scan too; the scan says why.
      this.#log.warn({ err: errorMessage(err) }, 'verdict cache lookup failed; scanning')
      return {}
    }
  }

  /// Loads the DB and starts the workers; resolves once every worker has built its engine, so the
  /// first objects scanned do not wait behind the workers' start-up.
  /// The workers start first: their start-up runs while this thread loads the DB. `early`: a pool
  /// the caller started (startPool, for `options`) before it loaded this module, whose ~100 modules
  /// then load while the workers start too (`scanwall scan`).
  static async start (options: ScanServiceOptions, metrics: Metrics, log: Logger, early?: StartedPool): Promise<ScanService> {
    const started = performance.now()
    const pooled = early ?? startPool(options)
    let loaded
    try {
      loaded = await loadDb(options.signaturesDir, { lenient: options.signaturesLenient ?? false, cacheDir: options.signaturesCacheDir, cacheBudgetBytes: options.signaturesCacheBytes })
    } catch (err) {
      pooled.offer.close()
      await pooled.pool.destroy()
      throw err
    }
    const { db, fromCache } = loaded
    log.info({ dir: options.signaturesDir, signatures: signatureCount(db), version: db.version, fromCache, ms: Math.round(performance.now() - started), skipped: db.stats.skipped, unsupported: db.stats.unsupported, unsupportedReasons: db.stats.unsupportedReasons }, 'signatures loaded')
    const service = new ScanService(options, db, metrics, log, pooled)
    try {
      await service.#warm(service.#pool)
    } catch (err) {
      await service.close()
      throw err
    }
    return service
  }

  /// One empty scan per worker, all at once: with one task per worker at a time, each worker takes
  /// one, so each has loaded its module and built its engine (Piscina counts the first workers ready
  /// before they are). Not recorded in the metrics.
  async #warm (pool: Piscina): Promise<void> {
    const task = (): ScanTask => ({ source: { kind: 'memory', bytes: new ArrayBuffer(0), size: 0 }, name: 'warm-up', timeoutMs: this.#options.timeoutMs, returnBody: false, cancelFlag: new SharedArrayBuffer(4) })
    const signal = AbortSignal.timeout(this.#options.timeoutMs + hardTimeoutGraceMs)
    const results = await Promise.all(Array.from({ length: this.#options.workers }, async () => parseTaskResult(await pool.run(task(), { signal }))))
    const failed = results.find(r => !r.ok)
    if (failed !== undefined && !failed.ok) throw new ScanwallError('SCAN_WORKER_CRASHED', `warm-up scan: ${failed.message}`)
  }

  get dbVersion (): string { return this.#signatures.version }
  get signatures (): CompiledDb { return this.#signatures }
  get signatureCount (): number { return signatureCount(this.#signatures) }
  /// Why the last reload failed (cleared by a successful one).
  get lastReloadError (): string | undefined { return this.#lastReloadError }
  get poolSize (): number { return this.#options.workers }
  /// Scans submitted and not yet answered (running plus queued).
  get inFlight (): number { return this.#inFlight }
  get queueDepth (): number { return this.#pool.queueSize }
  /// Objects the leaf scanner answered on the calling thread (never reached the pool).
  get inlineScans (): number { return this.#inlineScans }
  /// Of those, the objects the leaf lane's thread matched.
  get laneScans (): number { return this.#laneScans }

  /// `borrowedChunks`: the caller's chunks are valid only during write() (SinkOptions).
  openSink (expectedSize?: number, borrowedChunks = false): BodySink {
    const cache = this.#cache
    // With the cache on, a spooled body whose head was seen before is hashed while it arrives.
    const hashSpooled = cache === undefined ? undefined : (head: string, size: number | undefined): boolean => cache.admitsHash(head, size)
    return new BodySink({ memoryLimit: this.#options.memoryLimit, spoolDir: this.#options.spoolDir, expectedSize, budget: this.#memory, hashSpooled, borrowedChunks })
  }

  /// The leaf scanner's kernel gets a private memory (its own 2.3 MiB copy of the Bloom bitmaps), not
  /// a slot of the workers' shared one: V8 copies bytes into a SharedArrayBuffer with relaxed atomic
  /// stores (~2.8 µs per 64 KiB here) against memcpy into a private one (~0.75 µs), and this thread
  /// copies every inline body (BENCHMARKS.md, icap64-5).
  #leafScanner (db: CompiledDb): Engine | undefined {
    return (this.#options.inlineMaxBytes ?? 0) > 0 ? new Engine(db) : undefined
  }

  #leafLane (db: CompiledDb, kernelMemory: WasmMemory | undefined): LeafLane | undefined {
    return (this.#options.inlineMaxBytes ?? 0) > 0 && this.#options.leafThread === true ? new LeafLane(db, kernelMemory, this.#leafLimits, this.#options.workerMaxOldGenMb) : undefined
  }

  /// Whether this body goes to the leaf lane: a leaf-sized memory body, and a lane with room.
  #laneTakes (source: BodySource): source is BodySource & { readonly kind: 'memory' } {
    const lane = this.#lane
    return lane !== undefined && lane.usable && lane.pending < leafLaneDepth && source.size >= leafLaneMinBytes && this.#inlineSize(source)
  }

  #inlineSize (source: BodySource): source is BodySource & { readonly kind: 'memory' } {
    return source.kind === 'memory' && source.size <= Math.min(this.#options.inlineMaxBytes ?? 0, leafMaxBytes)
  }

  /// Scans one body. Never throws: every failure is a Verdict with status error/timeout/aborted, and
  /// a body over the object limit is a `limit` verdict (not scanned) for the policy to decide.
  /// The caller owns `body` (and the returned body) and releases it with releaseSource().
  /// `ctx` says where the object came from (its service names the infection event).
  /// `keepBody`: hand the body back for echoing it unchanged (a moved memory body returns from the worker).
  async scan (body: ScanBody, ctx: ScanContext, signal: AbortSignal, { keepBody = false }: { readonly keepBody?: boolean } = {}): Promise<ScanOutcome> {
    const service = ctx.service
    if (body.kind === 'oversize') {
      const verdict: Verdict = { status: 'limit', findings: [oversizeFinding], stats: zeroStats }
      return keepBody && body.kept !== undefined ? { verdict, body: body.kept } : { verdict }
    }
    let source: BodySource = body
    // No promise for a memory body, nor for one the cache does not take (every small one): the inline
    // path stays synchronous.
    const cached = !this.#cacheWants(source, service) ? noLookup : source.kind === 'memory' ? (this.#cache as VerdictCache).lookupMemory(source) : await this.#lookup(source)
    if (cached.verdict !== undefined) {
      this.#metrics.cacheHits++
      this.#record(cached.verdict, service)
      return keepBody ? { verdict: cached.verdict, body: source } : { verdict: cached.verdict }
    }
    if (cached.store !== undefined) this.#metrics.cacheMisses++
    let inline: Verdict | undefined
    if (this.#laneTakes(source)) {
      const lane = await this.#onLane(source)
      if (lane.body === undefined) {
        this.#record(lane.verdict, service)
        return { verdict: lane.verdict }
      }
      source = lane.body
      inline = lane.verdict
      if (inline !== undefined) this.#laneScans++
    } else {
      inline = this.#scanInline(source)
    }
    if (inline !== undefined) {
      this.#inlineScans++
      this.#record(inline, service)
      cached.store?.(inline)
      if (keepBody) return { verdict: inline, body: source }
      // Consumed, as a body moved to a worker is: its buffer serves the next sinks.
      recycleBody(source)
      return { verdict: inline }
    }
    const pool = this.#pool
    if (pool.queueSize >= this.#options.maxQueue) {
      this.#metrics.overloads++
      return { verdict: failed('error', 'SCAN_QUEUE_FULL', 'scan queue is full'), ...(keepBody ? { body: source } : {}) }
    }
    const cancelFlag = new SharedArrayBuffer(4)
    const cancel = (): void => { Atomics.store(new Int32Array(cancelFlag), 0, 1) }
    signal.addEventListener('abort', cancel, { once: true })
    // A worker that ignores the cooperative flag for too long is terminated by Piscina's own abort.
    const hard = this.#deadlines.start()
    const task: ScanTask = { source, name: 'object', timeoutMs: this.#options.timeoutMs, returnBody: keepBody, cancelFlag, limits: { spoolDir: this.#options.spoolDir, ...this.#options.limits } }
    const transfer = source.kind === 'memory' ? [source.bytes] : []
    this.#inFlight++
    try {
      const result = await this.#answer(pool.run(task, { signal: hard, transferList: transfer }))
      const body: BodySource | undefined = !keepBody
        ? undefined
        : source.kind === 'file' ? source : result.body !== undefined ? { kind: 'memory', bytes: result.body, size: source.size } : undefined
      const verdict = result.ok ? result.verdict : failed('error', result.code, result.message)
      cached.store?.(verdict)
      this.#record(verdict, service)
      this.#logTrouble(verdict)
      return body === undefined ? { verdict } : { verdict, body }
    } catch (err) {
      const message = errorMessage(err)
      const verdict = /queue is at limit/i.test(message)
        ? failed('error', 'SCAN_QUEUE_FULL', message)
        : hard.aborted ? failed('timeout', 'SCAN_TIMEOUT', `worker did not answer within ${this.#options.timeoutMs} ms`) : failed('error', 'SCAN_WORKER_CRASHED', message)
      if (verdict.error?.code === 'SCAN_QUEUE_FULL') this.#metrics.overloads++
      this.#record(verdict, service)
      this.#log.warn({ code: verdict.error?.code, err: message }, 'scan failed')
      // A memory body was transferred and is gone with the failed task; a spooled one survives.
      return keepBody && source.kind === 'file' ? { verdict, body: source } : { verdict }
    } finally {
      this.#inFlight--
      this.#deadlines.done(hard)
      signal.removeEventListener('abort', cancel)
    }
  }

  /// The worker's answer as a typed value; a malformed one becomes an error result here, so nothing
  /// past this point sees a shape the types do not promise.
  async #answer (pending: Promise<unknown>): Promise<ScanTaskResult> {
    const raw = await pending
    try {
      return parseTaskResult(raw)
    } catch (err) {
      if (!(err instanceof BadResult)) throw err
      this.#log.error({ err: err.message }, 'worker answered with a malformed result')
      return { ok: false, code: 'SCAN_BAD_RESULT', message: `malformed worker result: ${err.message}` }
    }
  }

  /// One log line per scan for what the policy may let pass but an operator must be able to see:
  /// containers that could not be read to their end (format, path, error) and engine faults.
  #logTrouble (verdict: Verdict): void {
    const broken = verdict.findings.filter(f => f.kind === 'broken')
    if (broken.length > 0) {
      this.#log.warn({ status: verdict.status, broken: broken.map(f => ({ format: f.name, path: f.path.join('/'), error: f.detail ?? '' })) }, 'damaged container: scanned as far as it goes')
    }
    if (verdict.status === 'error') this.#log.error({ code: verdict.error?.code, err: verdict.error?.message }, 'scan failed')
  }

  /// The leaf lane's verdict and the body back (a verdict undefined: the pool scans it), or, when the
  /// lane's thread died with the body, an error verdict and no body (as a crashed pool worker).
  async #onLane (source: BodySource & { readonly kind: 'memory' }): Promise<{ readonly verdict: Verdict, readonly body: undefined } | { readonly verdict: Verdict | undefined, readonly body: BodySource }> {
    try {
      const answer = await (this.#lane as LeafLane).scan(source.bytes, source.size)
      if (answer.fault !== undefined) this.#log.warn({ err: answer.fault }, 'leaf lane scan failed; handing the object to the pool')
      return { verdict: answer.verdict, body: { kind: 'memory', bytes: answer.bytes, size: source.size } }
    } catch (err) {
      const message = errorMessage(err)
      this.#log.warn({ err: message }, 'leaf lane failed; matching inline from now on')
      return { verdict: failed('error', 'SCAN_WORKER_CRASHED', message), body: undefined }
    }
  }

  /// The leaf scanner's verdict for a small memory body, or undefined: the pool scans it.
  #scanInline (source: BodySource): Verdict | undefined {
    const leaf = this.#leaf
    if (leaf === undefined || !this.#inlineSize(source)) return undefined
    try {
      return leaf.scanLeaf(new Uint8Array(source.bytes, 0, source.size), 'object', this.#leafLimits)
    } catch (err) {
      // A matcher fault on the I/O thread must not cost the transaction: the pool gets a try.
      this.#log.warn({ err: errorMessage(err) }, 'inline scan failed; handing the object to the pool')
      return undefined
    }
  }

  #record (verdict: Verdict, service: string): void {
    const m = this.#metrics
    m.objectsScanned += verdict.stats.objects
    m.bytesScanned += verdict.stats.bytes
    if (verdict.stats.ms > 0) m.latency.record(verdict.stats.ms)
    if (verdict.status === 'infected') {
      m.infections++
      m.events.emit('infection', { threat: verdict.findings[0]?.name ?? 'unknown', service })
    }
    if (verdict.status === 'timeout') m.timeouts++
    if (verdict.status === 'error') m.errors++
    if (verdict.status === 'aborted') m.aborted++
  }

  /// Loads and compiles a new DB on a background thread, then swaps pools between scans: new scans
  /// go to the new pool, scans in flight finish on the old one, dbVersion (the ISTag) changes.
  /// A failed load keeps the old DB, records why (lastReloadError) and throws it. Reloads queue.
  /// Either way the outcome is announced on metrics.events ('sigdb': SNMP traps it).
  async reload (dir?: string): Promise<CompiledDb> {
    const run = async (): Promise<CompiledDb> => {
      dir ??= this.#dir
      const started = performance.now()
      const failed = (err: unknown): never => {
        this.#lastReloadError = errorMessage(err)
        this.#log.error({ dir, err: this.#lastReloadError, version: this.#signatures.version }, 'signature reload failed; keeping the loaded DB')
        this.#metrics.events.emit('sigdb', { ok: false, error: this.#lastReloadError })
        throw err
      }
      let next: CompiledDb
      try {
        next = (await loadDbInBackground(dir, { lenient: this.#options.signaturesLenient ?? false, cacheDir: this.#options.signaturesCacheDir, cacheBudgetBytes: this.#options.signaturesCacheBytes })).db
      } catch (err) {
        return failed(err)
      }
      const kernel = kernelMemoryFor(next, kernelThreads(this.#options))
      const fresh = createPool(this.#options, { db: next, kernelMemory: kernel }, this.#laneThreads)
      try {
        await this.#warm(fresh) // new scans go to workers that are ready for them
      } catch (err) {
        void fresh.close().catch(() => {})
        return failed(err)
      }
      const old = this.#pool
      const oldLane = this.#lane
      this.#pool = fresh
      this.#leaf = this.#leafScanner(next)
      this.#lane = this.#leafLane(next, kernel)
      oldLane?.closeWhenIdle()
      this.#signatures = next
      this.#dir = dir
      // Verdicts under the old signatures say nothing about the new ones, even at the same version.
      this.#cache?.clear()
      this.#cache?.setScope(this.#cacheScope(next))
      this.#lastReloadError = undefined
      this.#log.info({ signatures: signatureCount(next), version: next.version, ms: Math.round(performance.now() - started) }, 'signatures reloaded')
      this.#metrics.events.emit('sigdb', { ok: true, version: next.version, signatures: signatureCount(next) })
      const offer = this.#offer
      this.#offer = undefined
      void old.close().catch(() => {}).finally(() => offer?.close())
      return next
    }
    const result = this.#reloading.then(run, run)
    this.#reloading = result.catch(() => {})
    return await result
  }

  /// The `pool` health test: a few bytes scanned by a live pool worker (never the inline leaf
  /// scanner, which would answer without one), with a timeout that aborts the task. Not recorded in
  /// the metrics. Never throws: a crash, a queue at its limit or no answer in time is a failure.
  async probe (timeoutMs: number): Promise<{ readonly ok: boolean, readonly detail: string }> {
    const bytes = new TextEncoder().encode('scanwall pool health probe\n').buffer
    const task: ScanTask = { source: { kind: 'memory', bytes, size: bytes.byteLength }, name: 'health-probe', timeoutMs, returnBody: false, cancelFlag: new SharedArrayBuffer(4) }
    const signal = AbortSignal.timeout(timeoutMs)
    const started = performance.now()
    try {
      const result = parseTaskResult(await this.#pool.run(task, { signal, transferList: [bytes] }))
      const ms = Math.round(performance.now() - started)
      if (!result.ok) return { ok: false, detail: `worker failed: ${result.code} ${result.message}` }
      const answered = result.verdict.status === 'clean' || result.verdict.status === 'infected'
      return { ok: answered, detail: `worker answered ${result.verdict.status} in ${ms} ms` }
    } catch (err) {
      return { ok: false, detail: signal.aborted ? `no worker answered within ${timeoutMs} ms` : errorMessage(err) }
    }
  }

  async close (): Promise<void> {
    await Promise.all([this.#pool.close(), this.#lane?.close()])
    this.#offer?.close()
  }
}

export { releaseSource }
