/// LEB128 integers, the number encoding of WebAssembly binaries: the hand-assembled modules of
/// kernel.ts (anchor scan) and textnorm.ts (text normaliser) share them.

/// Unsigned LEB128 (sizes, counts, indices).
export function uleb (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

/// Signed LEB128 (i32.const operands).
export function sleb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out }
    out.push(b | 0x80)
  }
}
