/// Hash signature index. Objects are hashed only when some signature names their size (or a
/// size-`*` signature exists), as ClamAV indexes them, so clean traffic does not pay for hashing it
/// cannot match.
import { createHash, type Hash } from 'node:crypto'
import type { HashAlgo, HashSignature } from '../signatures/types.js'

export class HashIndex {
  readonly #byKey = new Map<string, string>() // `${algo}:${hash}:${size|*}` → name
  readonly #sizes = new Map<HashAlgo, Set<number>>()
  readonly #anySize = new Set<HashAlgo>()

  constructor (signatures: readonly HashSignature[]) {
    for (const s of signatures) {
      this.#byKey.set(`${s.algo}:${s.hash}:${s.size}`, s.name)
      if (s.size === '*') this.#anySize.add(s.algo)
      else {
        let set = this.#sizes.get(s.algo)
        if (set === undefined) this.#sizes.set(s.algo, set = new Set())
        set.add(s.size)
      }
    }
  }

  /// The algorithms worth computing for an object of this size.
  algorithmsFor (size: number): HashAlgo[] {
    const out: HashAlgo[] = []
    for (const algo of ['md5', 'sha1', 'sha256'] as const) {
      if (this.#anySize.has(algo) || this.#sizes.get(algo)?.has(size) === true) out.push(algo)
    }
    return out
  }

  begin (size: number): HashStream { return new HashStream(this, size, this.algorithmsFor(size)) }

  lookup (algo: HashAlgo, hex: string, size: number): string | undefined {
    return this.#byKey.get(`${algo}:${hex}:${size}`) ?? this.#byKey.get(`${algo}:${hex}:*`)
  }
}

export class HashStream {
  readonly #index: HashIndex
  readonly #size: number
  readonly #hashes: Array<[HashAlgo, Hash]>
  constructor (index: HashIndex, size: number, algos: readonly HashAlgo[]) {
    this.#index = index
    this.#size = size
    this.#hashes = algos.map(a => [a, createHash(a)])
  }

  push (chunk: Uint8Array): void { for (const [, h] of this.#hashes) h.update(chunk) }

  end (): string[] {
    const names: string[] = []
    for (const [algo, h] of this.#hashes) {
      const name = this.#index.lookup(algo, h.digest('hex'), this.#size)
      if (name !== undefined) names.push(name)
    }
    return names
  }
}
