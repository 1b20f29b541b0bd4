/// Issue #11 item 4's cost cell: what the clean-verdict cache costs on unique 1 MiB bodies (every
/// body a first sighting, as most web traffic is), measured so that a 3 % difference shows on a
/// shared 2-core machine whose load moves a batch's CPU time by ±30 %.
///
/// Method: one body at a time through one ScanService (2 workers), cache on (service `bench`) and
/// off (`nocache`, in `scan.cache.disabledServices`) alternating body by body in ABBA order, each
/// body fresh random bytes arriving through its own sink, as an ICAP or clamd body does; per body
/// the process's CPU time (all threads: utime + stime), so whatever the cache costs anywhere (its
/// lookup, memory, GC, the worker) counts. A pair is two bodies scanned back to back, so the
/// machine's drift hardly moves within one; hundreds of pairs give the median of the paired ratios
/// with its 95 % confidence interval (order statistics). Beside it, VerdictCache.lookup() timed
/// alone on unique bodies (this thread's CPU, /proc/thread-self/schedstat): the cache's own work.
/// Checked at load 16 (2026-12-03): an A/A run (both sides off) gave +0.7 % (-1.1..2.2) and -0.1 %
/// (-0.9..0.7) over 300 pairs, so the method resolves about ±1.5 %; the old batch method's
/// +8.3 % was the machine.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { ScanService } from '../src/scan/service.js'
import { VerdictCache, type VerdictCacheOptions } from '../src/scan/verdict-cache.js'
import type { BodySource } from '../src/scan/body.js'

export interface CacheCost {
  readonly pairs: number
  /// Process CPU per body (ms, medians), cache on and off.
  readonly onMs: number
  readonly offMs: number
  /// Median of the paired ratios on/off − 1, and its 95 % confidence interval.
  readonly cost: number
  readonly low: number
  readonly high: number
  /// VerdictCache.lookup() alone on a unique 1 MiB body (µs of CPU).
  readonly lookupUs: number
}

const bodyBytes = 1 << 20
const never = new AbortController().signal

/// This thread's CPU time in ns (the scheduler's own account; getrusage has no per-thread form in Node 20).
const threadCpuNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0])
const processCpuUs = (): number => { const c = process.cpuUsage(); return c.user + c.system }

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n === 0 ? 0 : n % 2 === 1 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/// The median's 95 % confidence interval by order statistics (no assumption about the spread's shape).
function medianInterval (xs: readonly number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b)
  const half = 0.98 * Math.sqrt(s.length)
  const lo = Math.max(0, Math.floor(s.length / 2 - half))
  const hi = Math.min(s.length - 1, Math.ceil(s.length / 2 + half))
  return [s[lo] ?? 0, s[hi] ?? 0]
}

/// One body through its own sink and the service: CPU of the process (µs).
async function scanOne (service: ScanService, name: string, bytes: Uint8Array): Promise<number> {
  const p = processCpuUs()
  const sink = service.openSink(bytes.length)
  await sink.write(bytes)
  const body = await sink.finish()
  await service.scan(body, { service: name }, never)
  return processCpuUs() - p
}

/// `on`/`off`: the service names with the cache on and off.
export async function cacheCost (service: ScanService, pairs: number, options: VerdictCacheOptions, on = 'bench', off = 'nocache'): Promise<CacheCost> {
  for (let i = 0; i < 8; i++) await scanOne(service, i % 2 === 0 ? on : off, randomBytes(bodyBytes)) // warm both paths
  const ratios: number[] = []
  const onMs: number[] = []
  const offMs: number[] = []
  for (let k = 0; k < pairs; k++) {
    const a = randomBytes(bodyBytes)
    const b = randomBytes(bodyBytes)
    // ABBA: on first in even pairs, off first in odd ones, so going first or second cancels out.
    const first = await scanOne(service, k % 2 === 0 ? on : off, a)
    const second = await scanOne(service, k % 2 === 0 ? off : on, b)
    const [withCache, without] = k % 2 === 0 ? [first, second] : [second, first]
    ratios.push(withCache / without)
    onMs.push(withCache / 1000)
    offMs.push(without / 1000)
  }
  const [low, high] = medianInterval(ratios)
  return { pairs, onMs: median(onMs), offMs: median(offMs), cost: median(ratios) - 1, low: low - 1, high: high - 1, lookupUs: await lookupAlone(options, pairs * 4) }
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
