/// Oldest-first eviction from insertion-ordered Maps and Sets, in constant time. Why not
/// `map.keys().next()` at each eviction: a fresh iterator starts at the hash table's first slot and
/// skips every deleted one before the first live entry, and after evictions from the front those are
/// as many as the evictions since the table was last rehashed. The verdict cache's doorkeeper (65,536
/// fingerprints of unique bodies) then cost ~30 µs per lookup once full against ~8 before it filled
/// (BENCHMARKS.md, icap64-4). One iterator kept across evictions resumes where the last one stopped:
/// V8's Map and Set iterators follow deletions, re-insertions (a refreshed entry comes again at its
/// new place) and rehashes.

export class OldestKeys<K> {
  readonly #keys: () => Iterator<K>
  #it: Iterator<K>

  /// `keys`: the collection's keys() (insertion order).
  constructor (keys: () => Iterator<K>) {
    this.#keys = keys
    this.#it = keys()
  }

  /// The oldest key still in the collection, or undefined when it is empty. The caller deletes it.
  next (): K | undefined {
    let step = this.#it.next()
    // An iterator that reached the end stays done: start a new one (the collection had emptied).
    if (step.done === true) {
      this.#it = this.#keys()
      step = this.#it.next()
    }
    return step.done === true ? undefined : step.value
  }
}

/// A Set of at most `max` keys, the oldest out first.
export class BoundedSet<K> {
  readonly #set = new Set<K>()
  readonly #oldest = new OldestKeys<K>(() => this.#set.values())
  readonly #max: number

  constructor (max: number) { this.#max = max }

  get size (): number { return this.#set.size }

  /// Adds `key`; true when it was not there.
  add (key: K): boolean {
    if (this.#set.has(key)) return false
    this.#set.add(key)
    if (this.#set.size > this.#max) {
      const oldest = this.#oldest.next()
      if (oldest !== undefined) this.#set.delete(oldest)
    }
    return true
  }

  clear (): void { this.#set.clear() }
}
