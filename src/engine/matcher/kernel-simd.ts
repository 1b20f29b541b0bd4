/// The anchor kernel's SIMD body (WebAssembly simd128, on in Node 20): sixteen positions per step,
/// with one branch. A step loads its sixteen grams as four unaligned 16-byte loads at i, i + 1, i + 2
/// and i + 3 (vector k's lane j: the gram at i + k + 4j; no shuffles), hashes them four lanes at a
/// time, gathers one filter byte per position into one vector (v128.load8_lane, lane 4k + j), and
/// picks bits with shuffles (i8x16.swizzle of the table 1, 2, 4 … 128): simd128 has no per-lane
/// variable shift. The bitmask of the step's passing lanes is in that transposed order; the rare step
/// that has any transposes it back (a 4 × 4 bit-matrix transpose), so positions stay in order.
///
///   i = from; n = 0 (hits confirmed); c = 0 (end of the candidates, out[n .. c))
///   loop:
///     while i + 15 <= to and c < max:
///       q = (gram * golden) >>> shift, for the sixteen grams (h, the hash of the large bitmap)
///       filter byte f = load8(coarse + (q >>> 6)); pass when f has bits (q >>> 3) & 7 and q & 7
///       (| the 2-byte anchors' bitmap, when the DB has them)
///       each passing position, in order: out[c++] = position
///       i += 16
///     each candidate p of out[n .. c), in order: out[n] = p; n += test(load32(p), bloom, shift)
///     c = n; if n >= max: return n (at most max + 15: OUT_SLACK)
///     if i + 15 <= to: continue (the array filled with candidates first)
///   the last positions (fewer than 16) one by one: if test(…): out[n++] = i; if n == max: return n
///   return n
///
/// The filter (kernel-memory.ts's coarse filter, 1/8 of the large bitmap) is a Bloom filter with two
/// bits per hash inside one byte; with no coarse filter (a small bitmap) the byte is the large
/// bitmap's own (q >>> 3, bit q & 7). The exact tests are deferred and batched because on random
/// bytes each one is a read of the 2 MiB bitmap that misses the cache: tested inside the scan loop,
/// behind its branches, the misses came one after another; in the batch loop (no branch on a test)
/// they overlap. The shifts and the filters' offsets are constants of the module (kernel.ts compiles
/// one per layout), so V8 emits immediate shifts and addressing where a shift by a local cost four
/// instructions. Each group of four gathers starts from a zero vector, so the byte inserts of a step,
/// and of successive steps, are not one long dependency chain. Measured numbers: docs/engine.md.
import { CSHIFT, FROM, GOLDEN, I, I32, I64, MAX, N, OUT, TO, V128, exactAt, get, gramTest, k32, op, set } from './kernel-wasm.js'
import { uleb } from './leb128.js'

/// What a module bakes in (kernel.ts: one compiled module per distinct value).
export interface SimdLayout {
  /// 32 - gramBits: q = (gram * golden) >>> shift.
  readonly shift: number
  /// Whether the first test is the coarse filter (true: byte q >>> 6, bits (q >>> 3) & 7 and q & 7) or
  /// the large bitmap itself (false: byte q >>> 3, bit q & 7).
  readonly coarse: boolean
  /// Memory offset of the first filter (the coarse filter, else the large bitmap).
  readonly filterAt: number
  /// Memory offset of the 2-byte anchors' bitmap.
  readonly bloom2At: number
}

// Locals after the shared ones (kernel-wasm.ts): i32s, then an i64, then v128s.
const [MASK, P, K, J] = [13, 14, 15, 16] as const
const E = 17
const [GOLD, BITS, SEVEN8, LOW, A, B, U, M] = [18, 19, 20, 21, 22, 23, 24, 25] as const
const Q = [26, 27, 28, 29] as const
const C = [30, 31, 32, 33] as const
const G = [34, 35, 36, 37] as const
const [B2, FFFF, SEVEN32, Z] = [38, 39, 40, 41] as const
const I32_LOCALS = 8
const I64_LOCALS = 1
const V128_LOCALS = 24

const simd = (code: number): number[] => [0xfd, ...uleb(code)]
const v = {
  load: (offset: number): number[] => [...simd(0x00), 0, ...uleb(offset)],
  const: (bytes: readonly number[]): number[] => [...simd(0x0c), ...bytes],
  swizzle: simd(0x0e),
  splat8: simd(0x0f),
  splat32: simd(0x11),
  extract64: (lane: number): number[] => [...simd(0x1d), lane],
  eq8: simd(0x23),
  and: simd(0x4e),
  or: simd(0x50),
  load8Lane: (offset: number, lane: number): number[] => [...simd(0x54), 0, ...uleb(offset), lane],
  bitmask8: simd(0x64),
  narrow16to8: simd(0x66),
  shrU8: simd(0x6d),
  narrow32to16: simd(0x86),
  shrU32: simd(0xad),
  mul32: simd(0xb5),
}
const ZERO = new Array<number>(16).fill(0)

/// 1 << lane for lanes 0-7 (swizzle indices past 15 give 0; only 0-7 are used).
const BIT_OF = [1, 2, 4, 8, 16, 32, 64, 128, 0, 0, 0, 0, 0, 0, 0, 0]

/// Gathers into local `into` (from a zero vector: no dependency on its old value) the bytes at
/// offset + each lane of the address vector `addrs`, into `into`'s lanes 4k … 4k + 3. The addresses
/// come out as two 64-bit lanes, each split in two (fewer shuffle-port instructions than four
/// 32-bit extracts).
function gather4 (addrs: number, offset: number, into: number, k: number): number[] {
  const out: number[] = []
  for (const half of [0, 1]) {
    for (const hi of [0, 1]) {
      const lane = 2 * half + hi
      const addr = hi === 0
        ? [...get(addrs), ...v.extract64(half), op.tee, E, op.wrap]
        : [...get(E), op.const64, 32, op.shrU64, op.wrap]
      out.push(...addr, ...(lane === 0 ? v.const(ZERO) : get(into)), ...v.load8Lane(offset, 4 * k + lane), ...set(into))
    }
  }
  return out
}

/// Sixteen i32 lanes of four vectors (each < 256) as the bytes of one, lane j of vector k at 4k + j.
const narrow = (vs: readonly number[][]): number[] => [
  ...vs[0]!, ...vs[1]!, ...v.narrow32to16, ...vs[2]!, ...vs[3]!, ...v.narrow32to16, ...v.narrow16to8,
]

export function simdCode (short: boolean, at: SimdLayout): number[] {
  const byteShift = at.coarse ? 6 : 3
  // One group: the grams at i + k + 4j (j = 0 … 3), their hashes into Q[k], their filter bytes into C[k].
  const group = (k: number): number[] => [
    ...get(I), ...v.load(k), ...(short ? [op.tee, G[k]!] : []),
    ...get(GOLD), ...v.mul32, ...k32(at.shift), ...v.shrU32, op.tee, Q[k]!,
    ...k32(byteShift), ...v.shrU32, ...set(A),
    ...gather4(A, at.filterAt, C[k]!, k),
  ]
  // The 2-byte anchors' bytes of group k into B2 (each group into its own lanes; B2 is ORed up).
  const group2 = (k: number): number[] => [
    ...get(G[k]!), ...get(FFFF), ...v.and, ...k32(3), ...v.shrU32, ...set(A),
    ...gather4(A, at.bloom2At, C[k]!, k), ...get(C[k]!),
    ...(k === 0 ? [] : [...get(B2), ...v.or]), ...set(B2),
  ]
  // Lanes whose byte (the vector on the stack) has every bit of the mask M: 0xff, else 0.
  const hasMask = [...get(M), ...v.and, ...get(M), ...v.eq8]
  const low = (locals: readonly number[]): number[][] => locals.map(l => [...get(l), ...get(LOW), ...v.and])
  const body = [
    ...k32(GOLDEN), ...v.splat32, ...set(GOLD),
    ...v.const(BIT_OF), ...set(BITS),
    ...k32(7), ...v.splat8, ...set(SEVEN8),
    ...k32(at.coarse ? 63 : 7), ...v.splat32, ...set(LOW),
    ...get(CSHIFT), ...k32(31), op.shrU, ...v.splat32, ...set(Z), // CSHIFT <= 32 (unused here: shifts are baked in)
    ...(short ? [...k32(0xffff), ...v.splat32, ...set(FFFF), ...k32(7), ...v.splat32, ...set(SEVEN32)] : []),
    ...get(FROM), ...set(I),
    op.block, op.void, // $done
    op.loop, op.void, // $scan
    op.block, op.void, // $check
    op.loop, op.void, // $blocks
    ...get(I), ...k32(15), op.add, ...get(TO), op.gtU, op.brIf, 1,
    ...group(0), ...group(1), ...group(2), ...group(3),
    // U: q & 63 (or q & 7) as bytes in the gathers' lane order; M: the bits each lane's byte must have.
    ...narrow(low(Q)), ...set(U),
    ...get(BITS), ...get(U), ...get(SEVEN8), ...v.and, ...v.swizzle,
    ...(at.coarse ? [...get(BITS), ...get(U), ...k32(3), ...v.shrU8, ...v.swizzle, ...v.or] : []),
    ...set(M),
    ...get(C[0]), ...get(C[1]), ...v.or, ...get(C[2]), ...get(C[3]), ...v.or, ...v.or, ...set(B),
    ...get(B), ...hasMask,
    ...(short
      ? [...group2(0), ...group2(1), ...group2(2), ...group2(3),
          ...get(BITS), ...narrow(G.map(g => [...get(g), ...get(SEVEN32), ...v.and])), ...v.swizzle, ...set(M),
          ...get(B2), ...hasMask, ...v.or]
      : []),
    ...v.bitmask8, op.tee, MASK,
    op.if, op.void,
    // Lane 4k + j is the position i + k + 4j: transpose the 4 × 4 bit matrix back to position order.
    ...get(MASK), ...get(MASK), ...k32(3), op.shrU, op.xor, ...k32(0x0a0a), op.and, ...set(P),
    ...get(MASK), ...get(P), op.xor, ...get(P), ...k32(3), op.shl, op.xor, ...set(MASK),
    ...get(MASK), ...get(MASK), ...k32(6), op.shrU, op.xor, ...k32(0x00cc), op.and, ...set(P),
    ...get(MASK), ...get(P), op.xor, ...get(P), ...k32(6), op.shl, op.xor, ...set(MASK),
    op.loop, op.void, // $bits: each passing position, a candidate for the exact test
    ...get(OUT), ...get(N), ...k32(2), op.shl, op.add, ...get(I), ...get(MASK), op.ctz, op.add, op.store, 2, 0,
    ...get(N), ...k32(1), op.add, ...set(N),
    ...get(MASK), ...get(MASK), ...k32(1), op.sub, op.and, op.tee, MASK,
    op.brIf, 0,
    op.end,
    op.end,
    // The vector constants ORed with Z (zero, from a parameter V8 cannot see through) at each step:
    // as loop values V8 keeps them in registers, where it rebuilt each folded constant at each use
    // (two to four instructions each; measured 3-4 % of the scan).
    ...[GOLD, BITS, SEVEN8, LOW].flatMap(c => [...get(c), ...get(Z), ...v.or, ...set(c)]),
    ...get(I), ...k32(16), op.add, ...set(I),
    ...get(N), ...get(MAX), op.geU, op.brIf, 1, // the array is full of candidates: test them
    op.br, 0,
    op.end, // $blocks
    op.end, // $check
    // The exact test of the candidates out[K .. N), kept in place: their bitmap reads are independent
    // of each other (no branch between them), so their cache misses overlap.
    ...get(K), ...set(J),
    op.block, op.void,
    op.loop, op.void,
    ...get(J), ...get(N), op.geU, op.brIf, 1,
    ...get(OUT), ...get(J), ...k32(2), op.shl, op.add, op.load, 2, 0, ...set(P),
    ...get(OUT), ...get(K), ...k32(2), op.shl, op.add, ...get(P), op.store, 2, 0,
    ...gramTest([...get(P), op.load, 0, 0], short), ...k32(1), op.and, ...get(K), op.add, ...set(K),
    ...get(J), ...k32(1), op.add, ...set(J),
    op.br, 0,
    op.end,
    op.end,
    ...get(K), ...set(N),
    ...get(N), ...get(MAX), op.geU, op.if, op.void, ...get(N), op.return, op.end,
    // Not full of hits: scan on (the array filled with candidates before the blocks' end), or the tail.
    ...get(I), ...k32(15), op.add, ...get(TO), op.leU, op.brIf, 0,
    op.end, // $scan
    op.loop, op.void, // the last positions, one by one
    ...get(I), ...get(TO), op.gtU, op.brIf, 1,
    ...exactAt(I, short),
    ...get(I), ...k32(1), op.add, ...set(I),
    op.br, 0,
    op.end,
    op.end, // $done
    ...get(N),
    op.end,
  ]
  const fn = [...uleb(3), ...uleb(I32_LOCALS), I32, ...uleb(I64_LOCALS), I64, ...uleb(V128_LOCALS), V128, ...body]
  return [...uleb(fn.length), ...fn]
}
