/// LZO1X decompression of one block (what lzop's methods 1-3, LZO1X-1 and LZO1X-999, write), written
/// here from the published description of the LZO1X bitstream (the Linux kernel's lzo.rst). The npm
/// packages are native bindings to the GPL liblzo (lzo), a browser build of FFmpeg's (lzo-wasm, 0.0.x)
/// or unmaintained; none is a well-kept pure decoder. Every copy is checked against the input, the
/// output bound and the start of the block, so damaged or hostile input throws instead of reading
/// or writing out of bounds.

class Cursor {
  at = 0
  readonly #input: Uint8Array
  constructor (input: Uint8Array) { this.#input = input }
  byte (): number {
    const b = this.#input[this.at++]
    if (b === undefined) throw new Error('LZO1X: input ends inside an instruction')
    return b
  }

  /// A length continued in following bytes: each zero adds 255, the first non-zero byte ends it.
  extended (base: number): number {
    let n = 0
    for (let b = this.byte(); b === 0; b = this.byte()) {
      n += 255
      if (n > 1 << 30) throw new Error('LZO1X: length run too long')
    }
    return n + base + (this.#input[this.at - 1] as number)
  }

  le16 (): number { return this.byte() | (this.byte() << 8) }
}

/// Decodes one block into exactly `size` bytes; throws when the data does not produce them.
export function lzo1xDecompress (input: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size)
  const ip = new Cursor(input)
  let op = 0
  const literals = (n: number): void => {
    if (op + n > size) throw new Error('LZO1X: output overrun')
    if (ip.at + n > input.length) throw new Error('LZO1X: input overrun')
    out.set(input.subarray(ip.at, ip.at + n), op)
    ip.at += n
    op += n
  }
  const copy = (distance: number, length: number): void => {
    const from = op - distance
    if (from < 0) throw new Error('LZO1X: match before the start of the block')
    if (op + length > size) throw new Error('LZO1X: output overrun')
    // Byte by byte: a match may overlap what it writes (a run).
    for (let k = 0; k < length; k++) out[op + k] = out[from + k] as number
    op += length
  }

  // state: literals copied after the last instruction, 0-3, or 4 after a literal run.
  let state = 0
  let t = ip.byte()
  if (t > 17) {
    literals(t - 17)
    state = t - 17 < 4 ? t - 17 : 4
    t = ip.byte()
  }
  for (;;) {
    let trailing: number
    if (t < 16) {
      if (state === 0) {
        literals(t === 0 ? ip.extended(15) + 3 : t + 3)
        state = 4
        t = ip.byte()
        continue
      }
      const h = ip.byte()
      if (state === 4) copy((h << 2) + (t >> 2) + 2049, 3)
      else copy((h << 2) + (t >> 2) + 1, 2)
      trailing = t & 3
    } else if (t >= 64) {
      const h = ip.byte()
      copy((h << 3) + ((t >> 2) & 7) + 1, (t >> 5) + 1)
      trailing = t & 3
    } else if (t >= 32) {
      const length = (t & 31) === 0 ? ip.extended(31) + 2 : (t & 31) + 2
      const d = ip.le16()
      copy((d >> 2) + 1, length)
      trailing = d & 3
    } else {
      const length = (t & 7) === 0 ? ip.extended(7) + 2 : (t & 7) + 2
      const d = ip.le16()
      const distance = 16384 + ((t & 8) << 11) + (d >> 2)
      if (distance === 16384) break // end of stream
      copy(distance, length)
      trailing = d & 3
    }
    if (trailing > 0) literals(trailing)
    state = trailing
    t = ip.byte()
  }
  if (op !== size) throw new Error(`LZO1X: block decoded to ${op} of ${size} bytes`)
  return out
}
