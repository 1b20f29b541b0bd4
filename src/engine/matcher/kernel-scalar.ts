/// The anchor kernel's portable body (no SIMD): where WebAssembly SIMD is unavailable, kernel.ts
/// builds its module with this function instead of kernel-simd.ts's. Four positions per step:
///
///   i = from; slow = -1
///   while i <= to:
///     if i > slow and i + 3 <= to:                  // four grams from one 8-byte load
///       w = load64(i)
///       if not four(w, coarse, cshift): i += 4; continue    // four(w, …) = test(w, …) | test(w >> 8, …)
///       if not four(w, bloom, shift): i += 4; continue      //   | test(w >> 16, …) | test(w >> 24, …)
///       slow = i + 3                                // a hit among them: take them one by one
///     if test(load32(i), bloom, shift): out[n++] = i; if n == max: return n
///     i++
///   return n
///
/// Testing four positions per step and branching once made text (whose grams mostly hit cached
/// bitmap lines) 35 % faster than one at a time; the coarse bitmap first (kernel-memory.ts) took
/// random 1 MiB from 11-12 to 6-7 ms of CPU with the peer-scale DB's 2 MiB bitmap.
import { BLOOM, COARSE, CSHIFT, FROM, I, I32, I64, N, SHIFT, TO, exactAt, get, gramTest, k32, op, set } from './kernel-wasm.js'
import { uleb } from './leb128.js'

const [W, SLOW] = [13, 14] as const

export function scalarCode (short: boolean): number[] {
  const gramOfW = (k: number): number[] => k === 0 ? [...get(W), op.wrap] : [...get(W), op.const64, k * 8, op.shrU64, op.wrap]
  // Whether none of the four grams of W passes `map` (1: none; the fast path moves on by 4).
  const four = (map: number, shift: number): number[] => [
    ...gramTest(gramOfW(0), short, map, shift), ...gramTest(gramOfW(1), short, map, shift), op.or,
    ...gramTest(gramOfW(2), short, map, shift), op.or, ...gramTest(gramOfW(3), short, map, shift), op.or,
    ...k32(1), op.and, op.eqz,
  ]
  const body = [
    ...get(FROM), ...set(I),
    ...k32(-1), ...set(SLOW),
    op.block, op.void,
    op.loop, op.void,
    ...get(I), ...get(TO), op.gtU, op.brIf, 1,
    // Four positions at once from one 8-byte load; almost always none passes, and the loop moves on
    // by 4. When one does, the four are taken again one by one below (up to SLOW).
    ...get(I), ...get(SLOW), op.gtS, ...get(I), ...k32(3), op.add, ...get(TO), op.leU, op.and,
    op.if, op.void,
    ...get(I), op.load64, 3, 0, ...set(W),
    ...four(COARSE, CSHIFT),
    op.if, op.void,
    ...get(I), ...k32(4), op.add, ...set(I),
    op.br, 2,
    op.end,
    // The coarse bitmap let one through: the large one, still four at once, says whether any is a hit.
    ...four(BLOOM, SHIFT),
    op.if, op.void,
    ...get(I), ...k32(4), op.add, ...set(I),
    op.br, 2,
    op.end,
    ...get(I), ...k32(3), op.add, ...set(SLOW),
    op.end,
    // One position.
    ...exactAt(I, short),
    ...get(I), ...k32(1), op.add, ...set(I),
    op.br, 0,
    op.end,
    op.end,
    ...get(N),
    op.end,
  ]
  const fn = [...uleb(3), ...uleb(4), I32, ...uleb(1), I64, ...uleb(1), I32, ...body]
  return [...uleb(fn.length), ...fn]
}
