/// The HTML normaliser's text kernel (htmlnorm.ts): a tiny hand-assembled WebAssembly function (like
/// textnorm.ts and kernel.ts: no compiler toolchain on the build machines) that takes plain page text
/// 16 bytes per step with SIMD, for the blocks whose two forms are the block itself, lower-cased
/// with each whitespace byte a space: only plain bytes (0x21-0x7f but `<` and `&`) and whitespace
/// bytes (not \r) with no two in a row and none last, and none first when `notags` just got a space.
/// Such a block leaves the state where it found it (text, no pending space), so the JS state machine
/// goes on after it unchanged; it takes every other byte. Most of a page's prose is such blocks.
/// One instance per thread, shared by every normaliser on it (a push runs to completion before any
/// other starts), with one read (8 KiB) in and its text out.
import { wasm } from './kernel-memory.js'
import { sleb } from './leb128.js'
import { wasmModule } from './wasm-module.js'

/// Where a read is copied (IN) and the kernel writes its blocks (OUT): one 64 KiB page.
export const KERNEL_IN = 0
export const KERNEL_OUT = 16384

/// (func (export "text") (param $src i32) (param $end i32) (param $dst i32) (param $ts i32) (result i32)
///   while src + 16 <= end:
///     ws = lanes that are whitespace (space, \t \n \v \f)
///     bad = lanes that are neither whitespace nor plain (below 0x21, above 0x7f, `<`, `&`)
///     if bad != 0 or ws & (ws << 1 | 0x8000 | ts) != 0: break
///     store16(dst, ws ? 0x20 : v + (v in A-Z ? 0x20 : 0)); src += 16; dst += 16; ts = 0
///   return src)
function moduleBytes (): Uint8Array {
  const [SRC, END, DST, TS, WSM, V, WS] = [0, 1, 2, 3, 4, 5, 6]
  const get = (l: number): number[] => [0x20, l]
  const set = (l: number): number[] => [0x21, l]
  const tee = (l: number): number[] => [0x22, l]
  const k = (n: number): number[] => [0x41, ...sleb(n)]
  const [add, and, or, shl, gtU] = [0x6a, 0x71, 0x72, 0x74, 0x4b]
  const simd = (o: number): number[] => [0xfd, o]
  const splat = (n: number): number[] => [...k(n), ...simd(0x0f)]
  const [vload, vstore, veq, vltU, vgtU, vand, vandnot, vor, vselect, bitmask, vadd, vsub] =
    [[...simd(0x00), 0, 0], [...simd(0x0b), 0, 0], simd(0x23), simd(0x26), simd(0x28), simd(0x4e), simd(0x4f), simd(0x50), simd(0x52), simd(0x64), simd(0x6e), simd(0x71)]
  const [block, loop, end, br, brIf] = [[0x02, 0x40], [0x03, 0x40], 0x0b, 0x0c, 0x0d]
  const body = [
    ...block, ...loop,
    ...get(SRC), ...k(16), add, ...get(END), gtU, brIf, 1,
    ...get(SRC), ...vload, ...set(V),
    // ws: == 0x20, or 0x09..0x0c (v - 9 < 4)
    ...get(V), ...splat(0x20), ...veq, ...get(V), ...splat(9), ...vsub, ...splat(4), ...vltU, ...vor, ...tee(WS), ...bitmask, ...set(WSM),
    // bad: (v < 0x21 | v > 0x7f | v == '<' | v == '&') and not ws
    ...get(V), ...splat(0x21), ...vltU, ...get(V), ...splat(0x7f), ...vgtU, ...vor,
    ...get(V), ...splat(0x3c), ...veq, ...vor, ...get(V), ...splat(0x26), ...veq, ...vor,
    ...get(WS), ...vandnot, ...bitmask,
    ...get(WSM), ...get(WSM), ...k(1), shl, ...k(0x8000), or, ...get(TS), or, and, or, brIf, 1,
    ...get(DST), ...splat(0x20),
    ...get(V), ...get(V), ...splat(0x41), ...vsub, ...splat(26), ...vltU, ...splat(0x20), ...vand, ...vadd,
    ...get(WS), ...vselect, ...vstore,
    ...get(SRC), ...k(16), add, ...set(SRC),
    ...get(DST), ...k(16), add, ...set(DST),
    ...k(0), ...set(TS),
    br, 0,
    end, end,
    ...get(SRC),
    end,
  ]
  const fn = [2, 1, 0x7f, 2, 0x7b, ...body] // locals: 1 × i32, 2 × v128
  return wasmModule('text', 1, fn)
}

export type TextFn = (src: number, end: number, dst: number, ts: number) => number
export interface TextKernel { readonly text: TextFn, readonly bytes: Uint8Array }

/// null: WebAssembly (SIMD) unavailable; the JS paths do everything.
let shared: TextKernel | null | undefined

export function htmlTextKernel (): TextKernel | undefined {
  if (shared === undefined) {
    try {
      const { exports } = new wasm.Instance(new wasm.Module(moduleBytes()), {})
      shared = { text: exports['text'] as TextFn, bytes: new Uint8Array((exports['mem'] as { buffer: ArrayBuffer }).buffer) }
    } catch {
      shared = null
    }
  }
  return shared ?? undefined
}
