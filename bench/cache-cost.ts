/// Issue #11 item 4's cost cell: what the clean-verdict cache costs on unique 1 MiB bodies (every
/// body a first sighting, as most web traffic is), measured so that a fraction of a per cent shows
/// on a shared 2-core machine whose load moves a batch's CPU time by ±30 %.
///
/// Method: one ScanService (2 workers), both services alive on it: `bench` (cache on) and `nocache`
/// (in `scan.cache.disabledServices`). Per pair one fresh random body goes through both, each time
/// through its own sink as an ICAP or clamd body arrives, one scan at a time, on first in even pairs
/// and off first in odd ones (so going first or second cancels out). The same bytes on both sides:
/// how many anchor candidates a random body raises moves its scan by a few per cent, more than the
/// cache costs. Per scan the CPU of the threads that do the work: this thread (sink, lookup,
/// hand-off, answer) plus the pool's workers (the walk), as the process's CPU (getrusage, which
/// brings the calling thread's own account up to date) minus every other thread's from the
/// scheduler's account in ns (/proc/self/task/<tid>/schedstat; a thread's own schedstat is stale by
/// up to a scheduler tick while it runs, a sleeping one's is exact). So V8's and libuv's helper
/// threads and the other processes' preemption stay out. Cost = median of the paired ratios on / off − 1 with its 95 % confidence
/// interval (order statistics, no assumption about the spread's shape); the same from the process's
/// CPU (all threads) as a check. Beside it, the cache's own code path timed in place
/// (VerdictCache.lookupMs: fingerprint, doorkeeper, map, per body of the `on` side; wall time of a
/// synchronous section, so a preemption inside it counts: the median is the figure), and
/// VerdictCache.lookup() alone on unique bodies (this thread's CPU).
/// Earlier methods: batches of bodies (±30 %: the machine), then different bodies on each side with
/// process CPU (3.0 %, CI 1.6..4.4 at load 17; A/A runs ±1.5 %).
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { ScanService } from '../src/scan/service.js'
import { VerdictCache, type VerdictCacheOptions } from '../src/scan/verdict-cache.js'
import type { BodySource } from '../src/scan/body.js'

export interface CostEstimate {
  /// Median of the paired ratios on/off − 1, and its 95 % confidence interval.
  readonly cost: number
  readonly low: number
  readonly high: number
}

export interface CacheCost {
  readonly pairs: number
  /// CPU per body of this thread plus the workers (ms, medians), cache on and off.
  readonly onMs: number
  readonly offMs: number
  /// From the threads that work (this one and the pool's), and from the whole process.
  readonly threads: CostEstimate
  readonly process: CostEstimate
  /// The cache's own path timed in place per body (µs): median and mean.
  readonly inPlaceUs: number
  readonly inPlaceMeanUs: number
  /// VerdictCache.lookup() alone on a unique 1 MiB body (µs of CPU).
  readonly lookupUs: number
}

const bodyBytes = 1 << 20
const never = new AbortController().signal

/// A thread's CPU time in ns, from the scheduler (getrusage has no per-thread form in Node 20).
const schedNs = (path: string): number => Number(readFileSync(path, 'latin1').split(' ')[0])
/// This thread's CPU over many calls (its schedstat lags by up to a tick, which a long loop makes negligible).
const threadCpuNs = (): number => schedNs('/proc/thread-self/schedstat')
const processCpuNs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) * 1000 }
const threadIds = (): Set<string> => new Set(readdirSync('/proc/self/task'))

/// Starts the service and names its worker threads: the threads that appear while it starts. libuv's
/// thread pool is started first (its threads are created together, on the first file operation), so
/// the new ones are the pool's workers; a count other than `workers` is refused, not guessed at.
export async function startWithWorkerThreads (workers: number, start: () => Promise<ScanService>): Promise<{ service: ScanService, workerThreads: readonly string[] }> {
  await stat('.')
  const before = threadIds()
  const service = await start()
  const workerThreads = [...threadIds()].filter(t => !before.has(t))
  if (workerThreads.length !== workers) throw new Error(`expected ${workers} new worker threads while the scan service started, saw ${workerThreads.length}: cannot count the workers' CPU`)
  return { service, workerThreads }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n === 0 ? 0 : n % 2 === 1 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/// Median of the ratios − 1 and its 95 % confidence interval by order statistics.
function estimate (ratios: readonly number[]): CostEstimate {
  const s = [...ratios].sort((a, b) => a - b)
  const half = 0.98 * Math.sqrt(s.length)
  const lo = Math.max(0, Math.floor(s.length / 2 - half))
  const hi = Math.min(s.length - 1, Math.ceil(s.length / 2 + half))
  return { cost: median(s) - 1, low: (s[lo] ?? 1) - 1, high: (s[hi] ?? 1) - 1 }
}

interface Spent { readonly threadsNs: number, readonly processNs: number, readonly inPlaceMs: number }

/// CPU of the other threads (not this one, not the workers), ns: sleeping or short-lived helpers.
function othersNs (workerThreads: ReadonlySet<string>): number {
  const self = String(process.pid)
  let sum = 0
  for (const tid of readdirSync('/proc/self/task')) {
    if (tid === self || workerThreads.has(tid)) continue
    try { sum += schedNs(`/proc/self/task/${tid}/schedstat`) } catch { /* exited meanwhile */ }
  }
  return sum
}

/// One body through its own sink and the service, under the name `name`: the CPU it took.
async function scanOne (service: ScanService, name: string, bytes: Uint8Array, workerThreads: ReadonlySet<string>): Promise<Spent> {
  const threads = (): number => processCpuNs() - othersNs(workerThreads)
  const inPlace = (): number => service.cacheStats?.lookupMs ?? 0
  const p = processCpuNs()
  const t = threads()
  const l = inPlace()
  const sink = service.openSink(bytes.length)
  await sink.write(bytes)
  const body = await sink.finish()
  await service.scan(body, { service: name }, never)
  return { inPlaceMs: inPlace() - l, threadsNs: threads() - t, processNs: processCpuNs() - p }
}

/// `on`/`off`: the service names with the cache on and off; `workerThreads`: startWithWorkerThreads'.
export async function cacheCost (service: ScanService, workerThreads: readonly string[], pairs: number, options: VerdictCacheOptions, on = 'bench', off = 'nocache'): Promise<CacheCost> {
  const counted = new Set(workerThreads)
  for (let i = 0; i < 8; i++) await scanOne(service, i % 2 === 0 ? on : off, randomBytes(bodyBytes), counted) // warm both paths
  const threadRatios: number[] = []
  const processRatios: number[] = []
  const onMs: number[] = []
  const offMs: number[] = []
  const inPlace: number[] = []
  for (let k = 0; k < pairs; k++) {
    const bytes = randomBytes(bodyBytes)
    const onFirst = k % 2 === 0
    const first = await scanOne(service, onFirst ? on : off, bytes, counted)
    const second = await scanOne(service, onFirst ? off : on, bytes, counted)
    const [withCache, without] = onFirst ? [first, second] : [second, first]
    threadRatios.push(withCache.threadsNs / without.threadsNs)
    processRatios.push(withCache.processNs / without.processNs)
    onMs.push(withCache.threadsNs / 1e6)
    offMs.push(without.threadsNs / 1e6)
    inPlace.push(withCache.inPlaceMs * 1000)
  }
  return {
    pairs,
    onMs: median(onMs),
    offMs: median(offMs),
    threads: estimate(threadRatios),
    process: estimate(processRatios),
    inPlaceUs: median(inPlace),
    inPlaceMeanUs: inPlace.reduce((a, b) => a + b, 0) / Math.max(1, inPlace.length),
    lookupUs: await lookupAlone(options, pairs * 4),
  }
}

/// VerdictCache.lookup() alone on `count` unique 1 MiB memory bodies: this thread's CPU per lookup
/// (µs). 32 distinct buffers, each stamped with a counter at its head so every body is new to the
/// doorkeeper; the middle and tail samples are read from memory the loop has not touched lately.
async function lookupAlone (options: VerdictCacheOptions, count: number): Promise<number> {
  const cache = new VerdictCache(options)
  cache.setScope('bench')
  const buffers = Array.from({ length: 32 }, () => randomBytes(bodyBytes))
  const body = (i: number): BodySource => {
    const buf = buffers[i % buffers.length]!
    buf.writeUInt32LE(i, 0)
    return { kind: 'memory', bytes: buf.buffer as ArrayBuffer, size: bodyBytes }
  }
  for (let i = 0; i < 64; i++) await cache.lookup(body(i))
  const started = threadCpuNs()
  for (let i = 64; i < 64 + count; i++) await cache.lookup(body(i))
  return (threadCpuNs() - started) / 1000 / count
}
