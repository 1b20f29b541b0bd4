/// The NRV2B, NRV2D and NRV2E decompressors of the UCL library (Markus Oberhumer's LZ77 family that UPX
/// packs with), written from the published bitstream description: literals and matches are announced
/// by single bits; offsets and lengths are Elias-gamma-like codes of bits; the low byte of an offset is
/// a whole byte. Bits come either 32 at a time (little-endian words, most significant bit first: the
/// `_LE32` variants UPX uses on x86) or 8 at a time (the `_8` variants). No npm package decodes these.
/// Every offset and length is checked against the output written so far and against `limit`; the
/// decoder throws a plain Error with the reason on the first lie, so a hostile stream costs at most
/// `limit` bytes of output and one pass over its input.

export type NrvMethod = 'nrv2b' | 'nrv2d' | 'nrv2e'

/// Result of one decompression: the output and how many input bytes the stream used.
export interface NrvResult { readonly output: Uint8Array, readonly consumed: number }

class BitReader {
  #buffer = 0
  #count = 0
  at: number
  constructor (readonly input: Uint8Array, start: number, readonly wordBits: 8 | 32) { this.at = start }

  byte (): number {
    if (this.at >= this.input.length) throw new Error('NRV stream ends inside a match offset')
    return this.input[this.at++]!
  }

  bit (): number {
    if (this.#count === 0) {
      if (this.wordBits === 32) {
        if (this.at + 4 > this.input.length) throw new Error('NRV stream ends inside the bit buffer')
        const i = this.input
        this.#buffer = (i[this.at]! | (i[this.at + 1]! << 8) | (i[this.at + 2]! << 16) | (i[this.at + 3]! << 24)) >>> 0
        this.at += 4
      } else {
        this.#buffer = this.byte()
      }
      this.#count = this.wordBits
    }
    this.#count--
    return (this.#buffer >>> this.#count) & 1
  }
}

/// Largest code value a well-formed stream can carry (the end marker is the largest: 0x1000002); a
/// longer run of continuation bits is damage, and stopping early keeps the loop bounded.
const maxCode = 0x2000000

/// Decompresses one stream starting at `start` into at most `limit` bytes (`expected`, when the
/// container states the size, is the exact size to allocate and the stream must not pass it).
export function nrvDecompress (method: NrvMethod, input: Uint8Array, start: number, limit: number, wordBits: 8 | 32 = 32): NrvResult {
  const out = new Uint8Array(limit)
  const bits = new BitReader(input, start, wordBits)
  let length = 0
  let lastOffset = 1
  const gamma = (seed: number): number => {
    let value = seed
    do {
      value = value * 2 + bits.bit()
      if (value > maxCode) throw new Error('NRV code too long')
    } while (bits.bit() === 0)
    return value
  }
  for (;;) {
    while (bits.bit() === 1) {
      if (length >= limit) throw new Error('NRV output larger than stated')
      out[length++] = bits.byte()
    }
    let offset = 1
    let matchLength: number
    if (method === 'nrv2b') {
      offset = gamma(1)
      if (offset === 2) offset = lastOffset
      else {
        offset = (offset - 3) * 256 + bits.byte()
        if (offset === 0xffffffff) break
        lastOffset = ++offset
      }
      matchLength = bits.bit() * 2 + bits.bit()
      if (matchLength === 0) matchLength = gamma(1) + 2
      matchLength += offset > 0xd00 ? 1 : 0
    } else {
      for (;;) {
        offset = offset * 2 + bits.bit()
        if (offset > maxCode) throw new Error('NRV code too long')
        if (bits.bit() === 1) break
        offset = (offset - 1) * 2 + bits.bit()
      }
      let low: number
      if (offset === 2) {
        offset = lastOffset
        low = bits.bit()
      } else {
        offset = (offset - 3) * 256 + bits.byte()
        if (offset === 0xffffffff) break
        low = (offset & 1) ^ 1
        offset = Math.floor(offset / 2)
        lastOffset = ++offset
      }
      if (method === 'nrv2d') {
        matchLength = low * 2 + bits.bit()
        if (matchLength === 0) matchLength = gamma(1) + 2
      } else if (low === 1) matchLength = 1 + bits.bit()
      else if (bits.bit() === 1) matchLength = 3 + bits.bit()
      else matchLength = gamma(1) + 3
      matchLength += offset > 0x500 ? 1 : 0
    }
    if (offset > length) throw new Error(`NRV match offset ${offset} before the start of the output`)
    if (length + matchLength + 1 > limit) throw new Error('NRV output larger than stated')
    let from = length - offset
    for (let n = 0; n <= matchLength; n++) out[length++] = out[from++]!
  }
  return { output: out.subarray(0, length), consumed: bits.at - start }
}
