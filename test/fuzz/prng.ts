/// Seeded pseudo-random numbers for the fuzzer: mulberry32 over a 32-bit state, seeded from a string,
/// so a case is reproducible from its id (target, seed, case number) alone; no global Math.random.

/// FNV-1a over a string: spreads ids like "zip:7:1234" over 32 bits.
function hash (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export class Rng {
  #state: number

  constructor (id: string) { this.#state = hash(id) }

  /// Uniform in [0, 2^32).
  u32 (): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /// Uniform integer in [0, n) (0 when n <= 0).
  below (n: number): number { return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n) }

  /// Uniform integer in [lo, hi] (lo when hi < lo).
  between (lo: number, hi: number): number { return hi < lo ? lo : lo + this.below(hi - lo + 1) }

  chance (p: number): boolean { return this.u32() / 0x1_0000_0000 < p }

  pick<T> (items: readonly T[]): T | undefined { return items[this.below(items.length)] }
}

/// The id a case is reproduced from: `npm run fuzz -- --format <target> --seed <seed> --case <n>`.
export function caseId (target: string, seed: number, caseNo: number): string {
  return `${target}:${seed}:${caseNo}`
}
