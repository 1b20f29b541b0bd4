/// The second data-plane safety net of issue #17 item 4, wired: samples the owner table's count of
/// bare resets from the virtual address (resets.ts) and, when their rate stays high, tells the agent
/// that another host answers for buckets this node holds. The map-based check (duplicates.ts) needs
/// the other owner's heartbeats; this one needs none, so it also covers a cut where neither side
/// hears the other (quorum off, or a host outside the cluster answering for the address).
/// A counter cannot say which buckets collide, so the agent steps back to its *own* share: the
/// buckets the map over every member it has known online gives it (agent.ts, `homeShare`). It
/// releases what it took over from silent peers, which is exactly where two owners can arise;
/// when both sides do that, each keeps its home share and every bucket has one owner again. The
/// step-back holds for `holdMs`, then the node takes its map's share again: if the other owner is
/// still there, the resets return and it steps back again (one short burst per hold); if it is gone
/// (the silent peer really died), its buckets are served again.
import { ResetRateDetector, type ResetRateOptions } from './resets.js'
import type { Logger } from '../log.js'

/// What the agent reports when the detector speaks (→ log, SNMP swClusterDuplicateOwner).
export interface ForeignAnswers {
  /// Bare resets per second, and how long the rate has stayed above the threshold.
  readonly perSecond: number
  readonly sinceMs: number
  /// Buckets released (taken over from silent peers); empty when all it holds is its own share.
  readonly released: readonly number[]
  readonly holdMs: number
}

/// Where the count comes from (NetfilterSink reads it in its owner nft session).
export interface ResetCounter {
  resetCount (): Promise<number>
}

export interface ResetGuardOptions extends ResetRateOptions {
  readonly sampleMs: number
  /// After a report, the detector is quiet this long (the agent holds its step-back as long).
  readonly holdMs: number
}

/// Why these numbers: two owners at even 10 new connections/s draw ~10 bare resets/s (measured in
/// test/cluster/resets.test.ts: two per failed connection); a late retransmission after a socket
/// closed draws one now and then. Five per second held for half a second is a symptom, not noise,
/// and the sample rate keeps the owner nft session's extra work to one listing per quarter second.
export const resetGuardDefaults: ResetGuardOptions = { perSecond: 5, sustainMs: 500, sampleMs: 250, holdMs: 30_000 }

export class ResetGuard {
  readonly #o: ResetGuardOptions
  readonly #counter: ResetCounter
  readonly #onSuspect: (perSecond: number, sinceMs: number) => void
  readonly #log: Logger
  #detector: ResetRateDetector
  #timer: NodeJS.Timeout | undefined
  #reading = false
  #quietUntil = 0
  #warned = false

  constructor (counter: ResetCounter, onSuspect: (perSecond: number, sinceMs: number) => void, log: Logger, options: ResetGuardOptions = resetGuardDefaults) {
    this.#o = options
    this.#counter = counter
    this.#onSuspect = onSuspect
    this.#log = log
    this.#detector = new ResetRateDetector(options)
  }

  start (): void {
    this.#timer = setInterval(() => { void this.#sample() }, this.#o.sampleMs)
  }

  stop (): void { clearInterval(this.#timer) }

  async #sample (): Promise<void> {
    // One read at a time: a slow nft session must not pile up listings.
    if (this.#reading) return
    this.#reading = true
    try {
      const packets = await this.#counter.resetCount()
      this.#warned = false
      const at = performance.now()
      const verdict = this.#detector.sample(packets, at)
      if (!verdict.suspect || at < this.#quietUntil) return
      this.#quietUntil = at + this.#o.holdMs
      // Start over after the hold, so an old rate does not speak for the new situation.
      this.#detector = new ResetRateDetector(this.#o)
      this.#onSuspect(verdict.perSecond, verdict.sinceMs)
    } catch (err) {
      // The filter's own errors are logged where it is applied; say once that this check is blind.
      if (!this.#warned) this.#log.warn({ err }, 'reading the foreign-reset counter failed: the kernel reset check is off until it works again')
      this.#warned = true
    } finally {
      this.#reading = false
    }
  }
}
