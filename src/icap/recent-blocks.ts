/// The short-lived memory of URLs whose download was cut in trickle mode: a browser (or a download
/// manager) that sees a truncated file retries it, and the retry is refused at once with the block
/// page instead of being fetched, scanned and cut again. Bounded in time (each entry expires) and in
/// size (the oldest entry goes first). A Map keeps insertion order, which is the expiry order, so
/// both bounds cost O(1) per entry; a library LRU would add nothing to that.

export interface RecentBlock {
  readonly threat: string
  readonly at: number
}

export class RecentBlocks {
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #now: () => number
  readonly #entries = new Map<string, RecentBlock>()

  constructor (ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs
    this.#maxEntries = Math.max(1, maxEntries)
    this.#now = now
  }

  get size (): number { return this.#entries.size }

  remember (url: string, threat: string): void {
    if (url === '-' || url === '') return
    const at = this.#now()
    this.#entries.delete(url) // re-inserted last: its expiry moves to the end of the order
    this.#entries.set(url, { threat, at })
    this.#expire(at)
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  /// The block still in force for this URL, if any.
  lookup (url: string): RecentBlock | undefined {
    if (this.#entries.size === 0) return undefined
    const entry = this.#entries.get(url)
    if (entry === undefined) return undefined
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(url)
      return undefined
    }
    return entry
  }

  #expire (now: number): void {
    for (const [url, entry] of this.#entries) {
      if (now - entry.at < this.#ttlMs) return
      this.#entries.delete(url)
    }
  }
}
