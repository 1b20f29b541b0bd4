/// A raw LZMA stream decoder (no .lzma/.xz container: the properties and the output size come from
/// the caller), written from Igor Pavlov's public LZMA specification (the range coder, the literal
/// coder with match bytes, the length and distance coders, the four repeat distances and the
/// 12-state machine). UPX's method 14 and its ELF blocks hold such streams behind a 2-byte header.
/// Why our own: the npm decoders (lzma / LZMA-JS, lzma-purejs, js-lzma) take whole .lzma-alone files
/// and have not been maintained for years, and the 7-Zip wasm backend works on files it extracts,
/// not on a stream inside an executable. The output is allocated once at the stated size, which the
/// caller checks against its limit first; a distance before the start of the output, a stream that
/// ends early, or bad properties throw a plain Error with the reason.

export interface LzmaProperties { readonly lc: number, readonly lp: number, readonly pb: number }

const probInit = 1024
const literalCoderSize = 0x300
const endPosModelIndex = 14
const fullDistances = 128
const alignBits = 4

class RangeDecoder {
  range = 0xffffffff
  code = 0
  at: number
  constructor (readonly input: Uint8Array, start: number, readonly end: number) {
    this.at = start + 1 // the first byte is always 0
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0
  }

  byte (): number {
    if (this.at >= this.end) throw new Error('LZMA stream ends early')
    return this.input[this.at++]!
  }

  bit (probs: Uint16Array, i: number): number {
    const p = probs[i]!
    const bound = (this.range >>> 11) * p
    let bit: number
    if (this.code < bound) { this.range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0 } else {
      this.range -= bound; this.code -= bound; probs[i] = p - (p >>> 5); bit = 1
    }
    if (this.range < 0x1000000) { this.range = (this.range * 256) >>> 0; this.code = ((this.code << 8) | this.byte()) >>> 0 }
    return bit
  }

  direct (count: number): number {
    let result = 0
    for (let i = 0; i < count; i++) {
      this.range >>>= 1
      let bit = 0
      if (this.code >= this.range) { this.code -= this.range; bit = 1 }
      result = ((result << 1) | bit) >>> 0
      if (this.range < 0x1000000) { this.range = (this.range * 256) >>> 0; this.code = ((this.code << 8) | this.byte()) >>> 0 }
    }
    return result
  }

  tree (probs: Uint16Array, base: number, bits: number): number {
    let m = 1
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, base + m)
    return m - (1 << bits)
  }

  reverseTree (probs: Uint16Array, base: number, bits: number): number {
    let m = 1
    let symbol = 0
    for (let i = 0; i < bits; i++) { const bit = this.bit(probs, base + m); m = (m << 1) + bit; symbol |= bit << i }
    return symbol
  }
}

/// choice, choice2, low[16][8], mid[16][8], high[256] in one array.
const lengthProbs = 2 + 16 * 8 + 16 * 8 + 256
function decodeLength (rc: RangeDecoder, p: Uint16Array, posState: number): number {
  if (rc.bit(p, 0) === 0) return rc.tree(p, 2 + posState * 8, 3)
  if (rc.bit(p, 1) === 0) return 8 + rc.tree(p, 2 + 128 + posState * 8, 3)
  return 16 + rc.tree(p, 2 + 256, 8)
}

export function lzmaDecodeRaw (input: Uint8Array, start: number, end: number, props: LzmaProperties, outSize: number): Uint8Array {
  const { lc, lp, pb } = props
  if (lc > 8 || lp > 4 || pb > 4) throw new Error(`LZMA properties lc=${lc} lp=${lp} pb=${pb} out of range`)
  const out = new Uint8Array(outSize)
  const rc = new RangeDecoder(input, start, Math.min(end, input.length))
  const literals = new Uint16Array(literalCoderSize << (lc + lp)).fill(probInit)
  const isMatch = new Uint16Array(192).fill(probInit)
  const isRep = new Uint16Array(12).fill(probInit)
  const isRepG0 = new Uint16Array(12).fill(probInit)
  const isRepG1 = new Uint16Array(12).fill(probInit)
  const isRepG2 = new Uint16Array(12).fill(probInit)
  const isRep0Long = new Uint16Array(192).fill(probInit)
  const posSlots = new Uint16Array(4 << 6).fill(probInit)
  const posDecoders = new Uint16Array(1 + fullDistances - endPosModelIndex).fill(probInit)
  const align = new Uint16Array(1 << alignBits).fill(probInit)
  const lengths = new Uint16Array(lengthProbs).fill(probInit)
  const repLengths = new Uint16Array(lengthProbs).fill(probInit)
  const pbMask = (1 << pb) - 1
  const lpMask = (1 << lp) - 1
  let state = 0
  let rep0 = 0
  let rep1 = 0
  let rep2 = 0
  let rep3 = 0
  let pos = 0
  while (pos < outSize) {
    const posState = pos & pbMask
    if (rc.bit(isMatch, (state << 4) + posState) === 0) {
      const prev = pos > 0 ? out[pos - 1]! : 0
      const base = (((pos & lpMask) << lc) + (prev >>> (8 - lc))) * literalCoderSize
      let symbol = 1
      if (state >= 7) {
        let matchByte = out[pos - rep0 - 1]!
        while (symbol < 0x100) {
          const matchBit = (matchByte >>> 7) & 1
          matchByte <<= 1
          const bit = rc.bit(literals, base + ((1 + matchBit) << 8) + symbol)
          symbol = (symbol << 1) | bit
          if (matchBit !== bit) break
        }
      }
      while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(literals, base + symbol)
      out[pos++] = symbol - 0x100
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6
      continue
    }
    let length: number
    if (rc.bit(isRep, state) === 1) {
      if (pos === 0) throw new Error('LZMA repeat match before any output')
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
          state = state < 7 ? 9 : 11
          out[pos] = out[pos - rep0 - 1]!
          pos++
          continue
        }
      } else {
        let distance: number
        if (rc.bit(isRepG1, state) === 0) distance = rep1
        else {
          if (rc.bit(isRepG2, state) === 0) distance = rep2
          else { distance = rep3; rep3 = rep2 }
          rep2 = rep1
        }
        rep1 = rep0
        rep0 = distance
      }
      length = decodeLength(rc, repLengths, posState)
      state = state < 7 ? 8 : 11
    } else {
      rep3 = rep2; rep2 = rep1; rep1 = rep0
      length = decodeLength(rc, lengths, posState)
      state = state < 7 ? 7 : 10
      const slot = rc.tree(posSlots, Math.min(length, 3) << 6, 6)
      if (slot < 4) rep0 = slot
      else {
        const direct = (slot >>> 1) - 1
        let distance = ((2 | (slot & 1)) << direct) >>> 0
        if (slot < endPosModelIndex) distance += rc.reverseTree(posDecoders, distance - slot, direct)
        else distance = (distance + rc.direct(direct - alignBits) * 16 + rc.reverseTree(align, 0, alignBits)) >>> 0
        rep0 = distance
      }
      if (rep0 === 0xffffffff) break // end marker
    }
    if (rep0 >= pos) throw new Error(`LZMA distance ${rep0 + 1} before the start of the output`)
    const n = Math.min(length + 2, outSize - pos)
    for (let i = 0; i < n; i++, pos++) out[pos] = out[pos - rep0 - 1]!
  }
  return pos === outSize ? out : out.subarray(0, pos)
}
