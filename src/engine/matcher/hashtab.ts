/// Hash signatures compiled into open-addressing tables in shared memory: per algorithm a digest
/// table (slot → entry + 1) and a set of the sizes some signature names, so a layer is hashed only
/// when its size can match (or a size-`*` signature exists), as ClamAV indexes them.
import { Grow, type StringTable } from './growable.js'
import type { HashAlgo, HashSignature } from '../signatures/types.js'

export const algos: readonly HashAlgo[] = ['md5', 'sha1', 'sha256']
const widths = [16, 20, 32] as const

class AlgoBuilder {
  readonly digests = new Grow(Uint8Array, 1 << 16)
  readonly sizes = new Grow(Int32Array)
  readonly names = new Grow(Int32Array)
  readonly allow = new Grow(Uint8Array)
  anySize = false
}

function log2Ceil (n: number): number { return Math.max(4, Math.ceil(Math.log2(Math.max(1, n)))) }

/// Open-addressing table of entry indexes keyed by the digest's first 4 bytes (already uniform).
function digestTable (digests: Uint8Array, width: number, count: number): Int32Array {
  const bits = log2Ceil(count * 2)
  const mask = (1 << bits) - 1
  const table = new Int32Array(1 << bits)
  for (let i = 0; i < count; i++) {
    const o = i * width
    let slot = ((digests[o]! | digests[o + 1]! << 8 | digests[o + 2]! << 16 | digests[o + 3]! << 24) >>> 0) & mask
    while (table[slot] !== 0) slot = (slot + 1) & mask
    table[slot] = i + 1
  }
  return table
}

function sizeSet (sizes: Int32Array): Int32Array {
  const distinct = new Set<number>()
  for (const s of sizes) if (s >= 0) distinct.add(s)
  const bits = log2Ceil(distinct.size * 2)
  const mask = (1 << bits) - 1
  const table = new Int32Array(1 << bits)
  for (const s of distinct) {
    let slot = Math.imul(s, 0x9e3779b1) >>> (32 - bits) & mask
    while (table[slot] !== 0) slot = (slot + 1) & mask
    table[slot] = s + 1
  }
  return table
}

export class HashBuilder {
  readonly #by = algos.map(() => new AlgoBuilder())
  readonly #strings: StringTable
  constructor (strings: StringTable) { this.#strings = strings }

  add (sig: HashSignature): void {
    const i = algos.indexOf(sig.algo)
    const b = this.#by[i]!
    b.digests.append(Buffer.from(sig.hash, 'hex'))
    b.sizes.push(sig.size === '*' ? -1 : sig.size)
    b.names.push(this.#strings.add(sig.name))
    b.allow.push(sig.allow ? 1 : 0)
    if (sig.size === '*') b.anySize = true
  }

  /// Sections named <prefix><algo><Field> (h: whole-object hashes, s: PE section hashes), and the any-size flags.
  finish (prefix = 'h'): { arrays: Record<string, Int32Array | Uint8Array>, anySize: [boolean, boolean, boolean] } {
    const arrays: Record<string, Int32Array | Uint8Array> = {}
    this.#by.forEach((b, i) => {
      const sizes = b.sizes.view
      arrays[`${prefix}${i}Digest`] = b.digests.view
      arrays[`${prefix}${i}Size`] = sizes
      arrays[`${prefix}${i}Name`] = b.names.view
      arrays[`${prefix}${i}Allow`] = b.allow.view
      arrays[`${prefix}${i}Table`] = digestTable(b.digests.view, widths[i]!, sizes.length)
      arrays[`${prefix}${i}Sizes`] = sizeSet(sizes)
    })
    const [a = false, b = false, c = false] = this.#by.map(x => x.anySize)
    return { arrays, anySize: [a, b, c] }
  }
}

/// Read side of one algorithm's tables (views on the shared buffer).
export class HashTable {
  readonly algo: HashAlgo
  readonly #width: number
  readonly #digests: Uint8Array
  readonly #sizes: Int32Array
  readonly #names: Int32Array
  readonly #allow: Uint8Array
  readonly #table: Int32Array
  readonly #sizeSet: Int32Array
  readonly #anySize: boolean

  constructor (index: number, get: (name: string) => Int32Array | Uint8Array, anySize: boolean, prefix = 'h') {
    this.algo = algos[index]!
    this.#width = widths[index as 0 | 1 | 2]
    this.#digests = get(`${prefix}${index}Digest`) as Uint8Array
    this.#sizes = get(`${prefix}${index}Size`) as Int32Array
    this.#names = get(`${prefix}${index}Name`) as Int32Array
    this.#allow = get(`${prefix}${index}Allow`) as Uint8Array
    this.#table = get(`${prefix}${index}Table`) as Int32Array
    this.#sizeSet = get(`${prefix}${index}Sizes`) as Int32Array
    this.#anySize = anySize
  }

  get count (): number { return this.#sizes.length }

  /// Whether some signature of this algorithm could match an object of this size.
  wants (size: number): boolean {
    if (this.#anySize) return true
    if (this.#sizes.length === 0 || size > 0x7ffffffe) return false
    const t = this.#sizeSet
    const mask = t.length - 1
    let slot = Math.imul(size, 0x9e3779b1) >>> (32 - Math.log2(t.length)) & mask
    for (;;) {
      const v = t[slot]!
      if (v === 0) return false
      if (v === size + 1) return true
      slot = (slot + 1) & mask
    }
  }

  /// Every matching entry: [nameId, allow] pairs.
  lookup (digest: Uint8Array, size: number): Array<{ name: number, allow: boolean }> {
    const out: Array<{ name: number, allow: boolean }> = []
    const t = this.#table
    const mask = t.length - 1
    const w = this.#width
    let slot = ((digest[0]! | digest[1]! << 8 | digest[2]! << 16 | digest[3]! << 24) >>> 0) & mask
    for (;;) {
      const v = t[slot]!
      if (v === 0) return out
      const e = v - 1
      const o = e * w
      let same = true
      for (let j = 0; j < w; j++) if (this.#digests[o + j] !== digest[j]) { same = false; break }
      const s = this.#sizes[e]!
      if (same && (s < 0 || s === size)) out.push({ name: this.#names[e]!, allow: this.#allow[e] === 1 })
      slot = (slot + 1) & mask
    }
  }
}
