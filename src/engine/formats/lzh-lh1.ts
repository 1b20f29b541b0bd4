/// LHA's -lh1- method (LHarc 1.x): LZSS over a 4 KiB window whose literals and match lengths are coded
/// with an adaptive Huffman tree (314 symbols: 256 bytes and lengths 3..60, the tree re-sorted after
/// every symbol and halved when the root count reaches 0x8000), and whose match positions carry their
/// upper 6 bits in a fixed prefix code of 3 to 8 bits and their lower 6 bits raw. Written here from
/// the published description of Okumura and Yoshizaki's LZHUF: 7-Zip, our LZH backend, does not
/// decode -lh1-, and no maintained npm package does. Output goes out in 64 KiB pieces through
/// `emit`, which returns false to stop (a limit, a cancel).

const windowSize = 4096
const maxMatch = 60
const threshold = 2
const symbols = 256 - threshold + maxMatch // 314
const nodes = symbols * 2 - 1 // 627
const root = nodes - 1
const maxFreq = 0x8000

/// Upper 6 bits of a position: code lengths 3 (1 code), 4 (3), 5 (8), 6 (12), 7 (24), 8 (16),
/// assigned in ascending order; indexed by the next 8 input bits.
const positionCode = new Uint8Array(256)
const positionLength = new Uint8Array(256)
{
  const lengths = [[3, 1], [4, 3], [5, 8], [6, 12], [7, 24], [8, 16]] as const
  let symbol = 0
  let at = 0
  for (const [length, count] of lengths) {
    for (let i = 0; i < count; i++, symbol++) {
      const span = 1 << (8 - length)
      positionCode.fill(symbol, at, at + span)
      positionLength.fill(length, at, at + span)
      at += span
    }
  }
}

class AdaptiveTree {
  readonly freq = new Uint32Array(nodes + 1)
  readonly parent = new Int32Array(nodes + symbols)
  readonly son = new Int32Array(nodes)

  constructor () {
    const { freq, parent, son } = this
    for (let i = 0; i < symbols; i++) { freq[i] = 1; son[i] = i + nodes; parent[i + nodes] = i }
    for (let i = 0, j = symbols; j <= root; i += 2, j++) {
      freq[j] = (freq[i] as number) + (freq[i + 1] as number)
      son[j] = i
      parent[i] = parent[i + 1] = j
    }
    freq[nodes] = 0xffff
    parent[root] = 0
  }

  /// Halves every count and rebuilds the tree in order of frequency.
  #rebuild (): void {
    const { freq, parent, son } = this
    let j = 0
    for (let i = 0; i < nodes; i++) {
      if ((son[i] as number) >= nodes) { freq[j] = ((freq[i] as number) + 1) >> 1; son[j] = son[i] as number; j++ }
    }
    for (let i = 0, k = symbols; k < nodes; i += 2, k++) {
      const f = (freq[i] as number) + (freq[i + 1] as number)
      let at = k - 1
      while (f < (freq[at] as number)) at--
      at++
      freq.copyWithin(at + 1, at, k)
      freq[at] = f
      son.copyWithin(at + 1, at, k)
      son[at] = i
    }
    for (let i = 0; i < nodes; i++) {
      const k = son[i] as number
      if (k >= nodes) parent[k] = i
      else parent[k] = parent[k + 1] = i
    }
  }

  /// Counts one more of `symbol` and keeps the tree sorted by frequency.
  update (symbol: number): void {
    const { freq, parent, son } = this
    if (freq[root] === maxFreq) this.#rebuild()
    let c = parent[symbol + nodes] as number
    do {
      const k = (freq[c] as number) + 1
      freq[c] = k
      let l = c + 1
      if (k > (freq[l] as number)) {
        // The last node whose count is below k (freq[nodes] is a sentinel that stops the walk).
        while (k > (freq[l + 1] as number)) l++
        freq[c] = freq[l] as number
        freq[l] = k
        const i = son[c] as number
        parent[i] = l
        if (i < nodes) parent[i + 1] = l
        const j = son[l] as number
        son[l] = i
        parent[j] = c
        if (j < nodes) parent[j + 1] = c
        son[c] = j
        c = l
      }
      c = parent[c] as number
    } while (c !== 0)
  }
}

class BitReader {
  #at = 0
  #bits = 0
  #count = 0
  readonly #input: Uint8Array
  constructor (input: Uint8Array) { this.#input = input }
  bit (): number {
    if (this.#count === 0) { this.#bits = this.#input[this.#at++] ?? 0; this.#count = 8 }
    this.#count--
    return (this.#bits >> this.#count) & 1
  }

  bits (n: number): number {
    let v = 0
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit()
    return v
  }
}

/// Decodes `size` bytes of -lh1- data; false when `emit` asked to stop. Throws on input that runs out.
export function decodeLh1 (input: Uint8Array, size: number, emit: (piece: Uint8Array) => boolean): boolean {
  const tree = new AdaptiveTree()
  const bits = new BitReader(input)
  const window = new Uint8Array(windowSize).fill(0x20)
  let r = windowSize - maxMatch
  const out = new Uint8Array(64 * 1024)
  let fill = 0
  const put = (byte: number): boolean => {
    out[fill++] = byte
    window[r] = byte
    r = (r + 1) & (windowSize - 1)
    if (fill < out.length) return true
    fill = 0
    return emit(out.slice())
  }
  // Input past its end reads as zero bits; a symbol budget stops a stream that never ends.
  const guard = input.length * 8 + 64
  let read = 0
  for (let done = 0; done < size;) {
    let c = tree.son[root] as number
    while (c < nodes) { c = tree.son[c + bits.bit()] as number; read++ }
    c -= nodes
    tree.update(c)
    if (read > guard) throw new Error(`-lh1- data ends after ${done} of ${size} bytes`)
    if (c < 256) {
      if (!put(c)) return false
      done++
      continue
    }
    const first = bits.bits(8)
    const extra = (positionLength[first] as number) - 2
    const low = ((first << extra) | bits.bits(extra)) & 0x3f
    const back = ((positionCode[first] as number) << 6) | low
    read += 8 + extra
    const from = (r - back - 1) & (windowSize - 1)
    const length = c - 255 + threshold
    for (let k = 0; k < length && done < size; k++, done++) {
      if (!put(window[(from + k) & (windowSize - 1)] as number)) return false
    }
  }
  return fill === 0 || emit(out.slice(0, fill))
}
