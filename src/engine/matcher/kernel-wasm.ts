/// What the anchor kernel's two hand-assembled function bodies share (kernel-scalar.ts, the portable
/// one, and kernel-simd.ts, the one that runs where WebAssembly SIMD does): the opcodes they use, the
/// parameters and first locals both declare, and the exact test of one position's gram against the
/// Bloom bitmaps, which both end with. Hand-assembled because the module is a few hundred bytes and
/// the build machines have no wat2wasm or AssemblyScript (kernel.ts says more).
import { sleb } from './leb128.js'

export const GOLDEN = 0x9e3779b1 | 0

export const I32 = 0x7f
export const I64 = 0x7e
export const V128 = 0x7b

export const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  void: 0x40,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  load: 0x28,
  load64: 0x29,
  store: 0x36,
  const: 0x41,
  const64: 0x42,
  eqz: 0x45,
  eq: 0x46,
  ne: 0x47,
  gtS: 0x4a,
  gtU: 0x4b,
  leU: 0x4d,
  geU: 0x4f,
  ctz: 0x68,
  add: 0x6a,
  sub: 0x6b,
  mul: 0x6c,
  and: 0x71,
  or: 0x72,
  xor: 0x73,
  shl: 0x74,
  shrU: 0x76,
  shrU64: 0x88,
  wrap: 0xa7,
} as const

/// The scan function's parameters (see kernel.ts for its signature), then the locals both bodies
/// declare first, as i32s: the position, the last gram's hash, the hit count and the gram.
export const [FROM, TO, BLOOM, BLOOM2, SHIFT, OUT, MAX, COARSE, CSHIFT, I, H, N, X] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as const

export const get = (l: number): number[] => [op.get, l]
export const set = (l: number): number[] => [op.set, l]
export const k32 = (n: number): number[] => [op.const, ...sleb(n)]

/// The filter word(s) of the gram on the stack, shifted so that bit 0 is its Bloom bit (not masked:
/// callers OR several and mask once). `map`/`shift`: the large bitmap (BLOOM, SHIFT) or the coarse
/// one (COARSE, CSHIFT). With `short`, the 2-byte anchors' bitmap is tested too (only DBs that have
/// such anchors pay for it: measured, it about halves the scalar loop's speed).
export function gramTest (gram: number[], short: boolean, map: number = BLOOM, shift: number = SHIFT): number[] {
  return [
    ...gram, op.tee, X,
    ...k32(GOLDEN), op.mul, ...get(shift), op.shrU, op.set, H,
    ...get(map), ...get(H), ...k32(5), op.shrU, ...k32(2), op.shl, op.add, op.load, 2, 0,
    ...get(H), op.shrU,
    ...(short
      ? [...get(BLOOM2), ...get(X), ...k32(0xffff), op.and, ...k32(5), op.shrU, ...k32(2), op.shl, op.add, op.load, 2, 0,
          ...get(X), op.shrU, op.or]
      : []),
  ]
}

/// Position `at` (a local) is a hit when its gram passes the exact test: append it to the output
/// array, and return from the function once the array is full (the caller drains it and calls again
/// from the next position).
export function exactAt (at: number, short: boolean): number[] {
  return [
    ...gramTest([...get(at), op.load, 0, 0], short),
    ...k32(1), op.and,
    op.if, op.void,
    ...get(OUT), ...get(N), ...k32(2), op.shl, op.add, ...get(at), op.store, 2, 0,
    ...get(N), ...k32(1), op.add, op.tee, N, ...get(MAX), op.eq,
    op.if, op.void, ...get(N), op.return, op.end,
    op.end,
  ]
}
