/// The anchor kernel's SIMD body (WebAssembly simd128, on in Node 20): sixteen positions per step,
/// with one branch. The bitmaps are read as bytes (bit h of a bitmap is bit h & 7 of its byte h >>> 3,
/// the same bits as kernel-memory.ts's 32-bit words on a little-endian memory), so a step gathers its
/// sixteen filter bytes into one vector with v128.load8_lane, and picks each lane's bit with a
/// shuffle (i8x16.swizzle of the table 1, 2, 4 … 128): no per-lane variable shift, which simd128 lacks.
///
///   i = from
///   while i + 15 <= to:
///     g[0..15] = the 4-byte grams at i .. i + 15 (four loads, four shuffles)
///     p = g * golden (i32x4.mul, four lanes at a time)
///     coarse byte c[j] = load8(coarse + (p[j] >>> (cshift + 3))); bit b[j] = (p[j] >>> cshift) & 7
///     pass = lanes where c[j] & (1 << b[j])         (| the 2-byte anchors' bitmap, when the DB has them)
///     for each lane j of pass (count trailing zeros):
///       if test(load32(i + j), bloom, shift): out[n++] = i + j; if n == max: return n
///     i += 16
///   the last positions (fewer than 16) one by one, as above
///   return n
///
/// Against the portable body (kernel-scalar.ts: four positions per step, each hashed, addressed,
/// loaded and shifted on its own), a position costs about a third of the instructions, and the
/// sixteen loads of a step are independent of each other (no branch between them), so a step's
/// cache misses on a large coarse bitmap overlap. Measured numbers: docs/engine.md.
import { BLOOM2, COARSE, CSHIFT, FROM, GOLDEN, I, I32, N, TO, V128, exactAt, get, k32, op, set } from './kernel-wasm.js'
import { uleb } from './leb128.js'

// Locals after the shared ones (kernel-wasm.ts): i32s, then v128s.
const [MASK, P, BSHIFT] = [13, 14, 15] as const
const [GOLD, CBASE, SEVEN, BITS, G, PV, A, B, K0, K1, K2, K3, FFFF, B2BASE, B2, SEVEN8] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] as const
const I32_LOCALS = 7
const V128_LOCALS = 16

const simd = (code: number): number[] => [0xfd, ...uleb(code)]
const v = {
  load: (offset: number): number[] => [...simd(0x00), 0, ...uleb(offset)],
  const: (bytes: readonly number[]): number[] => [...simd(0x0c), ...bytes],
  shuffle: (lanes: readonly number[]): number[] => [...simd(0x0d), ...lanes],
  swizzle: simd(0x0e),
  splat8: simd(0x0f),
  splat32: simd(0x11),
  extract32: (lane: number): number[] => [...simd(0x1b), lane],
  eq8: simd(0x23),
  and: simd(0x4e),
  or: simd(0x50),
  load8Lane: (lane: number): number[] => [...simd(0x54), 0, 0, lane],
  bitmask8: simd(0x64),
  narrow16to8: simd(0x66),
  narrow32to16: simd(0x86),
  shrU32: simd(0xad),
  add32: simd(0xae),
  mul32: simd(0xb5),
}

/// Lanes of one load at i + 4k: the grams at i + 4k … i + 4k + 3 (bytes j … j + 3 of the load).
const GRAM_LANES = [0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6]
/// 1 << lane for lanes 0-7 (swizzle indices past 15 give 0; only 0-7 are used).
const BIT_OF = [1, 2, 4, 8, 16, 32, 64, 128, 0, 0, 0, 0, 0, 0, 0, 0]

/// Loads byte lane `lane` of local `into` from the address in lane `from` of local `addrs`.
const gather = (addrs: number, from: number, into: number, lane: number): number[] =>
  [...get(addrs), ...v.extract32(from), ...get(into), ...v.load8Lane(lane), ...set(into)]

export function simdCode (short: boolean): number[] {
  // One group of four grams (the load at i + 4k): their coarse filter bytes into B's lanes 4k …
  // 4k + 3, their bit indices into Kk; with short anchors, their 2-byte anchors' bytes into B2.
  const group = (k: number): number[] => [
    ...get(I), ...v.load(4 * k), op.tee, G, ...get(G), ...v.shuffle(GRAM_LANES), ...set(G),
    ...get(G), ...get(GOLD), ...v.mul32, ...set(PV),
    ...get(PV), ...get(BSHIFT), ...v.shrU32, ...get(CBASE), ...v.add32, ...set(A),
    ...get(PV), ...get(CSHIFT), ...v.shrU32, ...get(SEVEN), ...v.and, ...set(K0 + k),
    ...[0, 1, 2, 3].flatMap(l => gather(A, l, B, 4 * k + l)),
    ...(short
      ? [...get(G), ...get(FFFF), ...v.and, ...k32(3), ...v.shrU32, ...get(B2BASE), ...v.add32, ...set(A),
          ...[0, 1, 2, 3].flatMap(l => gather(A, l, B2, 4 * k + l))]
      : []),
  ]
  // Lanes whose gathered byte (local `bytes`) has the bit its lane's index (the vector `index` leaves)
  // names: 0xff, else 0.
  const pass = (bytes: number, index: number[]): number[] => [
    ...get(BITS), ...index, ...v.swizzle, ...set(G),
    ...get(bytes), ...get(G), ...v.and, ...get(G), ...v.eq8,
  ]
  const body = [
    ...k32(GOLDEN), ...v.splat32, ...set(GOLD),
    ...get(COARSE), ...v.splat32, ...set(CBASE),
    ...k32(7), ...v.splat32, ...set(SEVEN),
    ...v.const(BIT_OF), ...set(BITS),
    ...get(CSHIFT), ...k32(3), op.add, ...set(BSHIFT),
    ...(short
      ? [...k32(0xffff), ...v.splat32, ...set(FFFF), ...get(BLOOM2), ...v.splat32, ...set(B2BASE), ...k32(7), ...v.splat8, ...set(SEVEN8)]
      : []),
    ...get(FROM), ...set(I),
    op.block, op.void, // $done
    op.block, op.void, // $tail
    op.loop, op.void, // $blocks
    ...get(I), ...k32(15), op.add, ...get(TO), op.gtU, op.brIf, 1,
    ...group(0), ...group(1), ...group(2), ...group(3),
    ...pass(B, [...get(K0), ...get(K1), ...v.narrow32to16, ...get(K2), ...get(K3), ...v.narrow32to16, ...v.narrow16to8]),
    ...(short ? [...pass(B2, [...get(I), ...v.load(0), ...get(SEVEN8), ...v.and]), ...v.or] : []),
    ...v.bitmask8, ...set(MASK),
    ...get(MASK),
    op.if, op.void,
    op.loop, op.void, // $bits: each passing lane, exactly
    ...get(I), ...get(MASK), op.ctz, op.add, ...set(P),
    ...exactAt(P, short),
    ...get(MASK), ...get(MASK), ...k32(1), op.sub, op.and, op.tee, MASK,
    op.brIf, 0,
    op.end,
    op.end,
    ...get(I), ...k32(16), op.add, ...set(I),
    op.br, 0,
    op.end, // $blocks
    op.end, // $tail
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
  const fn = [...uleb(2), ...uleb(I32_LOCALS), I32, ...uleb(V128_LOCALS), V128, ...body]
  return [...uleb(fn.length), ...fn]
}
