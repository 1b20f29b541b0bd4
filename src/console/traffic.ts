/// The traffic chart's live points: every console.pollMs the node's counters are sampled into a
/// fixed ring (an hour at the default 2 s), so a page that opens sees the last hour at once and a
/// poll costs a copy of the ring, never a query. Sampling reads a few fields; it runs whether or
/// not a page is open (the cost is the same as a poll's, and the chart has history when one opens).
import type { Metrics } from '../metrics.js'
import type { TrafficSample } from './types.js'

export class TrafficRing {
  readonly #metrics: Metrics
  readonly #ring: TrafficSample[] = []
  readonly #size: number
  readonly #timer: NodeJS.Timeout

  constructor (metrics: Metrics, everyMs: number, size = 1800) {
    this.#metrics = metrics
    this.#size = size
    this.sample()
    this.#timer = setInterval(() => { this.sample() }, everyMs).unref()
  }

  sample (): void {
    const m = this.#metrics
    const services: Record<string, { objects: number, bytes: number, infections: number, blocks: number }> = {}
    for (const [name, c] of m.services) services[name] = { objects: c.respmod + c.reqmod, bytes: c.bytesIn, infections: c.infected, blocks: c.blocked }
    this.#ring.push({ at: Date.now(), objects: m.objectsScanned, bytes: m.bytesScanned, infections: m.infections, blocks: m.blocks, services })
    if (this.#ring.length > this.#size) this.#ring.shift()
  }

  /// Cumulative counters at each sample (after `sinceMs` when given), oldest first (the page turns
  /// them into rates).
  samples (sinceMs = 0): TrafficSample[] {
    let from = this.#ring.length
    while (from > 0 && (this.#ring[from - 1]?.at ?? 0) > sinceMs) from--
    return this.#ring.slice(from)
  }

  stop (): void { clearInterval(this.#timer) }
}
