/// The second data-plane safety net of issue #17 item 4, wired: samples the owner table's count of
/// bare resets from the virtual address (resets.ts) and, when their rate stays high, tells the agent
/// that another host answers for buckets this node holds. The map-based check (duplicates.ts) needs
/// the other owner's heartbeats; this one needs none, so it also covers a cut where neither side
/// hears the other (quorum off, or a host outside the cluster answering for the address).
/// Only the slower of two owners sends these resets (the faster one completed the handshake); the
/// owner table also lists the buckets they were for. The node that sees them steps back to its home
/// share (agent-safety.ts: the map over every member it has known online), giving up what it took
/// over from silent peers, which is where two owners arise; when both sides do that, each keeps
/// its home share and every bucket has one owner again. When resets go on for two more seconds,
/// the other owner does not step back (it wins every race: in the hub bed the bridge floods to its
/// ports in a fixed order; or it is no cluster member), so the node yields the home buckets they
/// are for as well. The step-back holds for `holdMs` or until the map changes (a peer is heard
/// again); then the node takes its map's share again, and resets, if any, start the cycle anew.
import { ResetRateDetector, type ResetRateOptions, type ResetSample } from './resets.js'
import type { Logger } from '../log.js'

/// What the agent reports when the detector speaks (→ log, SNMP swClusterDuplicateOwner).
export interface ForeignAnswers {
  /// Bare resets per second, and how long the rate has stayed above the threshold.
  readonly perSecond: number
  readonly sinceMs: number
  /// The buckets those resets were for, and the ones of them this node gave up now.
  readonly resetting: readonly number[]
  readonly released: readonly number[]
  readonly holdMs: number
}

/// Where the count comes from (NetfilterSink reads it in its owner nft session).
export interface ResetCounter {
  resetSample (): Promise<ResetSample>
}

export interface ResetGuardOptions extends ResetRateOptions {
  readonly sampleMs: number
  /// How long a bucket given up stays given up (agent-safety.ts).
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
  readonly #onSuspect: (perSecond: number, sinceMs: number, buckets: readonly number[]) => void
  readonly #log: Logger
  #detector: ResetRateDetector
  #timer: NodeJS.Timeout | undefined
  #reading = false
  #warned = false

  constructor (counter: ResetCounter, onSuspect: (perSecond: number, sinceMs: number, buckets: readonly number[]) => void, log: Logger, options: ResetGuardOptions = resetGuardDefaults) {
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
      const sample = await this.#counter.resetSample()
      this.#warned = false
      const at = performance.now()
      const verdict = this.#detector.sample(sample.packets, at)
      if (!verdict.suspect) return
      // Start over: the next report needs its own sustained rate, after the agent's step back.
      this.#detector = new ResetRateDetector(this.#o)
      this.#detector.sample(sample.packets, at)
      this.#onSuspect(verdict.perSecond, verdict.sinceMs, sample.buckets)
    } catch (err) {
      // The filter's own errors are logged where it is applied; say once that this check is blind.
      if (!this.#warned) this.#log.warn({ err }, 'reading the foreign-reset counter failed: the kernel reset check is off until it works again')
      this.#warned = true
    } finally {
      this.#reading = false
    }
  }
}
