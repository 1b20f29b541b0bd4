/// The weight a node advertises for the bucket map: its capacity scaled by how busy it is. The
/// load signal is noisy (a pool of one worker is either busy or not at any instant), and every
/// weight change moves buckets, so the weight follows a damped signal: samples are smoothed
/// (exponentially, time constant `smoothingMs`), quantised to steps of capacity / quanta, changed
/// only past a hysteresis, and at most once per `holdMs`. Only the advertising node runs this, so
/// its peers never disagree about its weight.
import type { LoadSample } from './types.js'

export interface DampOptions {
  /// Weights are multiples of capacity / quanta (e.g. 4: steps of 25 %).
  readonly quanta: number
  /// The advertised weight changes only when the target differs by more than this fraction.
  readonly hysteresis: number
  /// Lowest load factor: a busy node keeps some share rather than none.
  readonly floor: number
}

export interface WeightOptions extends DampOptions {
  readonly capacity: number
  /// Time constant of the load smoothing.
  readonly smoothingMs: number
  /// Least time between two changes of the advertised weight.
  readonly holdMs: number
}

/// The load factor a node would like: 1 when idle, down to `floor` when the busiest resource is full.
export function loadFactor (load: LoadSample, floor: number): number {
  const busiest = Math.max(load.cpu, load.memory, load.queue, load.poolBusy)
  return Math.max(floor, 1 - Math.min(1, Math.max(0, busiest)))
}

/// Damped effective weight: quantised, and unchanged unless the new target moved past the hysteresis.
export function dampWeight (current: number, capacity: number, load: LoadSample, options: DampOptions): number {
  const quantum = capacity / options.quanta
  const target = Math.max(quantum, Math.round(capacity * loadFactor(load, options.floor) / quantum) * quantum)
  if (current <= 0) return target
  return Math.abs(target - current) / current > options.hysteresis ? target : current
}

/// One step of exponential smoothing of every load figure over `dtMs`.
export function smoothLoad (previous: LoadSample, sample: LoadSample, dtMs: number, tauMs: number): LoadSample {
  const a = tauMs <= 0 ? 1 : 1 - Math.exp(-Math.max(0, dtMs) / tauMs)
  const mix = (p: number, s: number): number => p + a * (s - p)
  return { cpu: mix(previous.cpu, sample.cpu), memory: mix(previous.memory, sample.memory), queue: mix(previous.queue, sample.queue), poolBusy: mix(previous.poolBusy, sample.poolBusy) }
}

/// The smoothed load and the advertised weight of one node, fed with samples and their times.
export class WeightGovernor {
  readonly #o: WeightOptions
  #load: LoadSample | undefined
  #at = 0
  #weight: number
  #changedAt = -Infinity

  constructor (options: WeightOptions) {
    this.#o = options
    this.#weight = options.capacity
  }

  get weight (): number { return this.#weight }
  get load (): LoadSample { return this.#load ?? { cpu: 0, memory: 0, queue: 0, poolBusy: 0 } }

  /// Takes one load sample made at `at` (monotonic ms). With `follow`, the weight may move toward the
  /// smoothed load; returns the previous weight when it did, else undefined.
  sample (load: LoadSample, at: number, follow: boolean): number | undefined {
    this.#load = this.#load === undefined ? load : smoothLoad(this.#load, load, at - this.#at, this.#o.smoothingMs)
    this.#at = at
    if (!follow || at - this.#changedAt < this.#o.holdMs) return undefined
    const next = dampWeight(this.#weight, this.#o.capacity, this.#load, this.#o)
    if (next === this.#weight) return undefined
    const previous = this.#weight
    this.#weight = next
    this.#changedAt = at
    return previous
  }
}
